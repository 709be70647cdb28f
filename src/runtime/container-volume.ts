// A container's storage volume, as its record names it. A version 2 record names the storage
// (driver and dataset or directory), the volume and the state root id it carries, so delete
// works whatever today's config says; a 0.8.0 record (version 1) named at most the volume, by
// the id alone, in the storage of the config. One way for every verb: delete, the cleanup of
// an interrupted create, snapshots, and the health reports of list and doctor.
import { errorFields, log } from '../core/log.js';
import type { ImageCache, StorageLocation } from '../images/index.js';
import type { ContainerRecord } from './container-store.js';
import type { Runtime } from './runtime.js';

export interface RecordedVolume {
  /** The storage that holds it; undefined for a 0.8.0 record: the config's storage. */
  at: StorageLocation | undefined;
  volume: string;
  /** The berth:root-id the volume must carry; undefined for 0.8.0's volumes (they carry none). */
  rootId: string | undefined;
  /** The record says a volume was made (a 0.8.0 record of an ownsRootfs backend only may have one). */
  expected: boolean;
}

/** What a container's volume looks like now, for list and doctor. */
export type VolumeHealth = 'ok' | 'missing' | 'unmounted' | 'not-ours' | 'unreachable';

/** The image cache over the storage `at` names (undefined: the configured storage). */
export async function cacheAt(runtime: Runtime, at: StorageLocation | undefined): Promise<ImageCache> {
  const configured = await runtime.images();
  if (at === undefined) return configured;
  const here = configured.storage();
  if (here.driver === at.driver && here.location === at.location) return configured;
  return runtime.imagesAt(at);
}

/** The volume a record names, or undefined when it has none (a bundle, or an ownsRootfs backend). */
export async function recordedVolume(runtime: Runtime, record: ContainerRecord): Promise<RecordedVolume | undefined> {
  const image = record.image;
  if (!image) return undefined;
  if (record.version >= 2) {
    if (image.volume === undefined) return undefined;
    return { at: image.storage, volume: image.volume, rootId: image.rootId, expected: true };
  }
  // 0.8.0: its create also cleared an ownsRootfs container's old-scheme volume, so look there too.
  const volume = image.volume ?? (await runtime.images()).containerVolumeName(record.id);
  return { at: undefined, volume, rootId: undefined, expected: image.volume !== undefined };
}

/**
 * Destroys exactly the volume the record names (only if it carries the record's id and root
 * id). A volume already gone is a warning; a storage that cannot be reached fails the removal
 * (the record stays for a retry) unless `force`, where it is a warning naming what is left.
 */
export async function destroyRecordedVolume(runtime: Runtime, record: ContainerRecord, force: boolean): Promise<void> {
  const where = { id: record.id };
  let v: RecordedVolume | undefined;
  try {
    v = await recordedVolume(runtime, record);
    if (!v) return;
    const cache = await cacheAt(runtime, v.at);
    const done = await cache.destroyContainerVolume(record.id, { rootId: v.rootId, volume: v.volume });
    const place = describe(cache.storage(), v.volume);
    if (done === 'missing' && v.expected) await log('warn', `container "${record.id}": its volume ${place} is gone already (removed by hand?); removing the container anyway`, where);
    if (done === 'not-ours') await log('warn', `container "${record.id}": volume ${place} belongs to another container or state root; left alone`, where);
  } catch (err) {
    if (!force) throw err;
    const what = v ? `${v.volume}${v.at ? ` in ${v.at.driver} storage ${v.at.location}` : ''}` : 'its volume';
    await log('warn', `container "${record.id}": cannot remove ${what}; removing the container anyway (--force), the volume may be left behind`, { ...where, ...errorFields(err) });
  }
}

/** Whether the record's volume is there, mounted and ours. */
export async function volumeHealth(runtime: Runtime, record: ContainerRecord): Promise<{ health: VolumeHealth; volume: string; at: StorageLocation } | undefined> {
  let v: RecordedVolume | undefined;
  let cache: ImageCache;
  try {
    v = await recordedVolume(runtime, record);
    if (!v || !v.expected) return undefined;
    cache = await cacheAt(runtime, v.at);
  } catch {
    return v ? { health: 'unreachable', volume: v.volume, at: v.at ?? { driver: 'dir', location: '?' } } : undefined;
  }
  const at = cache.storage();
  try {
    const found = await cache.containerVolume(v.volume);
    if (!found) return { health: 'missing', volume: v.volume, at };
    if (found.id !== record.id || found.rootId !== v.rootId) return { health: 'not-ours', volume: v.volume, at };
    return { health: found.mounted ? 'ok' : 'unmounted', volume: v.volume, at };
  } catch {
    return { health: 'unreachable', volume: v.volume, at };
  }
}

/** "zfs tank/berth/containers/<volume>" or "dir /var/lib/berth/storage/containers/<volume>", for messages. */
export function describe(at: StorageLocation, volume: string): string {
  return `${at.driver} ${at.location}/containers/${volume}`;
}
