// What delete leaves of a container's cgroups once its backend is done: a crun killed mid-create
// (or a backend that no longer knows the container) leaves the cgroup berth chose for it
// (runtime/cgroup-path.ts) in every hierarchy. Only berth's own choice is removed: it is unique
// per state root and id, so nothing else lives there; a bundle's own linux.cgroupsPath is the
// bundle's business (its runtime removes it; berth never kills what might be shared).
import { removeCgroupEverywhere } from '../core/cgroup-remove.js';
import { log } from '../core/log.js';
import { cgroupName, chosenCgroupsPath } from './cgroup-path.js';
import type { ContainerRecord } from './container-store.js';
import type { Runtime } from './runtime.js';

/**
 * The cgroup directory (relative to a hierarchy's mount point) of berth's choice for `id`, if
 * `cgroupsPath` is that choice, in either manager's form.
 */
export function ownCgroupDir(rootId: string, id: string, cgroupsPath: string): string | undefined {
  if (cgroupsPath === chosenCgroupsPath(rootId, id, false)) return cgroupsPath;
  // The systemd manager's slice:prefix:name is the scope <prefix>-<name>.scope in the slice.
  if (cgroupsPath === chosenCgroupsPath(rootId, id, true)) return `/system.slice/berth-${rootId}-${cgroupName(id)}.scope`;
  return undefined;
}

/**
 * Removes the container's own cgroups (killing what still runs in them). `record` undefined:
 * a record that cannot be read; berth's choice for the id is removed. Never fails the delete:
 * what cannot be removed is a warning naming the directory.
 */
export async function removeContainerCgroups(runtime: Runtime, id: string, record: ContainerRecord | undefined): Promise<void> {
  if (record?.remote) return;
  const rootId = runtime.rootId();
  const path = record ? record.cgroupsPath : chosenCgroupsPath(rootId, id, runtime.options.systemdCgroup);
  if (path === undefined) return;
  const dir = ownCgroupDir(rootId, id, path);
  if (!dir) return;
  const { removed, failed } = await removeCgroupEverywhere(dir);
  if (removed.length > 0) await log('debug', `removed cgroups of container "${id}" its backend left: ${removed.join(', ')}`, { id });
  for (const f of failed) await log('warn', `cannot remove cgroup ${f.path} of container "${id}": ${f.error}`, { id });
}
