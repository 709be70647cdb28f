// Filesystem snapshots of a container made from an image: snapshots of its storage volume
// (ZFS snapshots, or full copies with the dir driver). Process checkpoints (CRIU) are not here.
import { nowIso } from '../core/clock.js';
import { ContainerStateError, NewerSnapshotsError, UnsupportedError } from '../core/errors.js';
import type { SnapshotInfo, StorageDriver } from '../storage/driver.js';
import type { ContainerRecord } from './container-store.js';
import type { Runtime } from './runtime.js';
import { assertAllowed } from './status.js';

/** The storage the record names (version 2), or the configured one (a 0.8.0 record). */
async function storage(runtime: Runtime, record: ContainerRecord): Promise<StorageDriver> {
  const { openStorage, openStorageAt } = await import('../storage/registry.js');
  const at = record.image?.storage;
  return at ? openStorageAt(at) : openStorage((await runtime.config()).storage);
}

function volumeOf(record: ContainerRecord): string {
  if (!record.image) {
    throw new ContainerStateError(`container "${record.id}" was made from a bundle, not an image: berth has no volume of it to snapshot`);
  }
  if (record.image.volume === undefined) {
    throw new UnsupportedError(`container "${record.id}" has no berth volume: its root filesystem is kept by backend ${record.backend}; snapshot it there`);
  }
  return record.image.volume;
}

async function snapshotStorage(runtime: Runtime, record: ContainerRecord): Promise<StorageDriver> {
  const driver = await storage(runtime, record);
  if (!driver.capabilities.snapshots) throw new UnsupportedError(`the ${driver.name} storage driver cannot take snapshots`);
  return driver;
}

/**
 * A default snapshot name from the time to the millisecond, e.g. 2026-11-26T11-05-12.345Z (valid
 * on every ZFS); `-2`, `-3` … after it when one of `taken` has it already.
 */
export function defaultSnapshotName(taken: readonly string[], now = nowIso()): string {
  const base = now.replace(/:/g, '-');
  let name = base;
  for (let n = 2; taken.includes(name); n++) name = `${base}-${n}`;
  return name;
}

export function createSnapshot(runtime: Runtime, id: string, name: string | undefined): Promise<string> {
  return runtime.observe('snapshot-create', id, (subject) =>
    runtime.withLocked(id, async (record) => {
      subject.backend = record.backend;
      const driver = await snapshotStorage(runtime, record);
      const volume = volumeOf(record);
      // Chosen under the container's lock, so two creates in one millisecond still get two names.
      const snapshot = name ?? defaultSnapshotName((await driver.listSnapshots(volume)).map((s) => s.name));
      await driver.snapshot(volume, snapshot);
      return snapshot;
    }),
  );
}

export async function listSnapshots(runtime: Runtime, id: string): Promise<SnapshotInfo[]> {
  const record = runtime.record(id);
  return (await snapshotStorage(runtime, record)).listSnapshots(volumeOf(record));
}

export function rollbackSnapshot(runtime: Runtime, id: string, name: string, discardNewer: boolean): Promise<void> {
  return runtime.observe('snapshot-rollback', id, (subject) =>
    runtime.withLocked(id, async (record, status) => {
      subject.backend = record.backend;
      const volume = volumeOf(record);
      assertAllowed('rollback', id, status);
      try {
        await (await snapshotStorage(runtime, record)).rollback(volume, name, { discardNewer });
      } catch (err) {
        if (!(err instanceof NewerSnapshotsError)) throw err;
        // The storage layer names the volume; the user needs the container and the way on.
        throw new NewerSnapshotsError(
          `cannot roll container "${id}" back to snapshot "${name}": newer snapshots exist (${err.newer.join(', ')}); \`berth snapshot rollback --discard-newer ${id} ${name}\` destroys them and rolls back`,
          err.newer,
          { cause: err },
        );
      }
    }),
  );
}

export function removeSnapshot(runtime: Runtime, id: string, name: string): Promise<void> {
  return runtime.observe('snapshot-rm', id, (subject) =>
    runtime.withLocked(id, async (record) => {
      subject.backend = record.backend;
      await (await snapshotStorage(runtime, record)).destroySnapshot(volumeOf(record), name);
    }),
  );
}
