// A container's storage volume, as its record names it. A version 2 record names the storage
// (driver and dataset or directory), the volume and the state root id it carries, so delete
// works whatever today's config says; a 0.8.0 record (version 1) named at most the volume, by
// the id alone, in the storage of the config. One way for every verb: delete, the cleanup of
// an interrupted create, snapshots, and the health reports of list and doctor.
import { errorFields, log } from '../core/log.js';
import type { ContainerVolumeInfo, ImageCache, StorageLocation } from '../images/index.js';
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

const otherCaches = new WeakMap<Runtime, Map<string, Promise<ImageCache>>>();

/**
 * The image cache over the storage `at` names (undefined: the configured storage), opened once
 * per runtime and storage. Its index is the configured state dir's: the pool is the truth.
 */
export async function cacheAt(runtime: Runtime, at: StorageLocation | undefined): Promise<ImageCache> {
  const configured = await runtime.images();
  if (at === undefined) return configured;
  const here = configured.storage();
  if (here.driver === at.driver && here.location === at.location) return configured;
  const caches = otherCaches.get(runtime) ?? new Map<string, Promise<ImageCache>>();
  otherCaches.set(runtime, caches);
  const key = `${at.driver}:${at.location}`;
  let cache = caches.get(key);
  if (!cache) {
    cache = runtime.config().then(async (config) => (await import('../images/index.js')).openImageCache({ storage: config.storage, at }));
    caches.set(key, cache);
  }
  return cache;
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

export interface VolumeReport {
  id: string;
  health: VolumeHealth;
  volume: string;
  /** "zfs tank/berth/containers/<volume>", "dir /var/lib/berth/storage/containers/<volume>" */
  where: string;
  /** For a person: what is wrong; undefined when health is ok. */
  problem: string | undefined;
}

/**
 * Whether each record's volume is there, mounted and ours: one listing per storage, however
 * many records. Never throws: a storage that cannot be read makes its records `unreachable`.
 */
export async function volumeReports(runtime: Runtime, records: ContainerRecord[]): Promise<Map<string, VolumeReport>> {
  const out = new Map<string, VolumeReport>();
  const byStorage = new Map<string, { at: StorageLocation | undefined; items: { record: ContainerRecord; v: RecordedVolume }[] }>();
  for (const record of records) {
    let v: RecordedVolume | undefined;
    try {
      v = await recordedVolume(runtime, record);
    } catch (err) {
      out.set(record.id, { id: record.id, health: 'unreachable', volume: '?', where: '?', problem: `its storage cannot be opened: ${(err as Error).message}` });
      continue;
    }
    if (!v || !v.expected) continue;
    const key = v.at ? `${v.at.driver}:${v.at.location}` : '';
    const group = byStorage.get(key) ?? { at: v.at, items: [] };
    group.items.push({ record, v });
    byStorage.set(key, group);
  }
  for (const { at, items } of byStorage.values()) {
    let cache: ImageCache | undefined;
    let listed: Map<string, ContainerVolumeInfo> | undefined;
    let failure = '';
    try {
      cache = await cacheAt(runtime, at);
      listed = new Map((await cache.containerVolumes()).map((c) => [c.volume, c]));
    } catch (err) {
      failure = (err as Error).message;
    }
    for (const { record, v } of items) {
      const where = describe(cache?.storage() ?? at ?? { driver: 'dir', location: '?' }, v.volume);
      const report = (health: VolumeHealth, problem: string | undefined): void => void out.set(record.id, { id: record.id, health, volume: v.volume, where, problem });
      const found = listed?.get(v.volume);
      if (!listed) report('unreachable', `its storage cannot be read: ${failure}`);
      else if (!found) report('missing', `its volume ${where} is missing (removed by hand?); delete --force removes the container`);
      else if (found.id !== record.id || found.rootId !== v.rootId) report('not-ours', `volume ${where} belongs to container "${found.id}" of root ${found.rootId ?? '(0.8.0)'}, not to it`);
      else if (!found.mounted) report('unmounted', `its volume ${where} is not mounted (its files are not there)`);
      else report('ok', undefined);
    }
  }
  return out;
}

/** Logs one warning per record whose volume is not as it should be; resolves to those reports. */
export async function warnVolumeProblems(runtime: Runtime, records: ContainerRecord[], op: string): Promise<VolumeReport[]> {
  const problems = [...(await volumeReports(runtime, records)).values()].filter((r) => r.problem !== undefined);
  for (const p of problems) await log('warn', `container "${p.id}": ${p.problem}`, { op, id: p.id });
  return problems;
}

/** Every record of this root that can be read (an unreadable one is doctor's to report). */
export function readableRecords(runtime: Runtime): ContainerRecord[] {
  return runtime.store.readAll().records;
}

/** "zfs tank/berth/containers/<volume>" or "dir /var/lib/berth/storage/containers/<volume>", for messages. */
export function describe(at: StorageLocation, volume: string): string {
  return `${at.driver} ${at.location}/containers/${volume}`;
}
