// delete --force of a container whose record cannot be read: the record no longer says which
// backend made the container or where its volume is, so what the backends and the storage keep
// of that id in this root is the truth left. Each state-keeping backend is asked to remove the
// id (a backend that does not know it does nothing); then the volume this root would have made
// for it (only if it carries this root's id and the container's); then the record's directory.
import type { CorruptRecordError } from '../core/errors.js';
import { BackendError } from '../core/errors.js';
import { errorFields, log } from '../core/log.js';
import { STATE_KEEPERS } from '../backends/registry.js';
import { removeContainerCgroups } from './container-cgroups.js';
import type { Runtime } from './runtime.js';

export async function removeUnreadable(runtime: Runtime, corrupt: CorruptRecordError): Promise<void> {
  const id = corrupt.id;
  const lock = await runtime.store.lock(id);
  if (!lock) return; // removed meanwhile
  try {
    await log('warn', `container record ${corrupt.path} cannot be read; removing container "${id}" through what its backend and storage keep of it`, { op: 'delete', id, ...errorFields(corrupt) });
    const failed: string[] = [];
    for (const name of STATE_KEEPERS) {
      let backend;
      try {
        backend = await runtime.backend(name);
      } catch (err) {
        await log('debug', `backend ${name} not asked about "${id}": it cannot be opened here`, { op: 'delete', id, ...errorFields(err) });
        continue;
      }
      try {
        await backend.delete(id, true);
      } catch (err) {
        failed.push(name);
        await log('warn', `backend ${name} could not remove container "${id}"`, { op: 'delete', id, ...errorFields(err) });
      }
    }
    // The record stays while a backend may still hold the container: a retry can finish.
    if (failed.length > 0) throw new BackendError(`cannot remove container "${id}" (its record ${corrupt.path} is corrupt): backend ${failed.join(', ')} failed to remove it`, { cause: corrupt });
    try {
      const images = await runtime.images();
      await images.destroyContainerVolume(id, { rootId: runtime.rootId() });
    } catch (err) {
      await log('warn', `container "${id}": cannot look for its volume; it may be left behind`, { op: 'delete', id, ...errorFields(err) });
    }
    await removeContainerCgroups(runtime, id, undefined);
    runtime.store.remove(id);
  } finally {
    lock.release();
  }
}
