// Container volumes without a record: a `create --image` makes the volume (a clone or a copy)
// before it writes the container's record, so a create killed in between leaves a volume that
// no record names. Such a volume carries this root's id and the container's id
// (berth:root-id, berth:container-id; named <root id>-<id>), so it is found: by `delete --force`
// of that id, and by the image verbs, which remove it (and so never count a container that
// does not exist). A volume of a create still at work is never touched: that create holds the
// id's lock. Volumes of other state roots are theirs to judge and left alone.
import { existsSync } from 'node:fs';
import { isDirectoryLocked } from '../core/lock.js';
import { errorFields, log } from '../core/log.js';
import type { ContainerVolumeInfo } from '../images/index.js';
import { describe } from './container-volume.js';
import type { Runtime } from './runtime.js';

/**
 * Removes `v` (a volume of this root, container `v.id`) when no record names it and no create
 * of that id is at work; resolves to true when it did. Takes the id's lock for the check.
 */
async function removeIfOrphan(runtime: Runtime, v: ContainerVolumeInfo, op: string): Promise<boolean> {
  const store = runtime.store;
  const id = v.id;
  if (namedByRecord(runtime, v)) return false; // the usual case, known without a lock
  if (await isDirectoryLocked(store.dir(id))) return false; // a create (or another verb) at work
  const lock = await store.lockForCreate(id);
  try {
    let record;
    try {
      record = store.read(id);
    } catch {
      return false; // an unreadable record: doctor reports it, delete --force removes it
    }
    // A record (even one of an interrupted create, without a pid) that names it owns it: delete takes both.
    if (record?.image?.volume === v.volume) return false;
    const images = await runtime.images();
    const done = await images.destroyContainerVolume(id, { rootId: v.rootId, volume: v.volume });
    if (!record) store.remove(id);
    if (done !== 'destroyed') return false;
    await log('warn', `container "${id}": removed its volume ${describe(images.storage(), v.volume)}, which an interrupted create left without a record`, { op, id });
    return true;
  } finally {
    lock.release();
  }
}

/** A readable record names the volume (an unreadable one counts as naming it: doctor's to report). */
function namedByRecord(runtime: Runtime, v: ContainerVolumeInfo): boolean {
  try {
    return runtime.store.read(v.id)?.image?.volume === v.volume;
  } catch {
    return true;
  }
}

/** This root's volumes that no record names and no verb is working on (for `doctor`). */
export async function orphanVolumes(runtime: Runtime): Promise<ContainerVolumeInfo[]> {
  const images = await runtime.images();
  const rootId = runtime.rootId();
  const out: ContainerVolumeInfo[] = [];
  for (const v of await images.containerVolumes()) {
    if (v.rootId === rootId && !namedByRecord(runtime, v) && !(await isDirectoryLocked(runtime.store.dir(v.id)))) out.push(v);
  }
  return out;
}

/** The image verbs' repair: every volume of this root that no record names goes. */
export async function removeOrphanVolumes(runtime: Runtime, op: string): Promise<number> {
  const images = await runtime.images();
  const rootId = runtime.rootId();
  let removed = 0;
  for (const v of await images.containerVolumes()) {
    if (v.rootId !== rootId) continue;
    if (await removeIfOrphan(runtime, v, op)) removed++;
  }
  return removed;
}

/**
 * `delete --force` of an id without a record: its volume, if an interrupted create left one.
 * Never fails the delete (which must not depend on the config or the storage): a storage that
 * cannot be opened is a debug line.
 */
export async function removeOrphanVolume(runtime: Runtime, id: string, leftDirectory = false): Promise<void> {
  // A killed create always leaves the id's directory (its lock; the undo that removes it never
  // ran): without one there is nothing to look for, and the storage is not opened (containerd
  // runs delete --force of ids long gone). The image verbs find any other orphan of this root.
  // `leftDirectory`: the delete found one (and swept it, as a directory without a record).
  if (!leftDirectory && !existsSync(runtime.store.dir(id))) return;
  try {
    const images = await runtime.images();
    const rootId = runtime.rootId();
    const volume = images.containerVolumeName(id, rootId);
    const found = (await images.containerVolumes()).find((v) => v.volume === volume && v.id === id && v.rootId === rootId);
    if (found) await removeIfOrphan(runtime, found, 'delete');
  } catch (err) {
    await log('debug', `delete --force "${id}": no record; could not look for a volume an interrupted create left`, { op: 'delete', id, ...errorFields(err) });
  }
}
