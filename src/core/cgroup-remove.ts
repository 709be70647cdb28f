// Removing a cgroup that its runtime left behind (a crun killed mid-create, a backend that no
// longer knows the container): in every mounted hierarchy (v1 controllers, the unified one),
// the cgroup and its children, depth first. Processes still in it are thawed and SIGKILLed first.
// (backends/lxc/lxc-cgroups.ts removes only empty ones: LXC's pivot after a clean stop.)
import { readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMountPoints } from './cgroup-mode.js';
import { errnoCode } from './errors.js';

export interface CgroupRemoval {
  /** The cgroup directories removed. */
  removed: string[];
  /** Those that could not be, with why. */
  failed: Array<{ path: string; error: string }>;
}

/**
 * Removes the cgroup at `relPath` ("/berth-<root>/<name>") in every hierarchy, killing what
 * still runs in it. Only for a cgroup that is the container's own: everything in it dies.
 */
export async function removeCgroupEverywhere(relPath: string, mounts = cgroupMountPoints()): Promise<CgroupRemoval> {
  const result: CgroupRemoval = { removed: [], failed: [] };
  const rel = relPath.replace(/^\/+/, '');
  if (rel === '' || rel.split('/').includes('..')) throw new Error(`refusing to remove cgroup path "${relPath}"`);
  for (const mount of mounts) await removeTree(join(mount, rel), result);
  return result;
}

async function removeTree(dir: string, result: CgroupRemoval): Promise<void> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') result.failed.push({ path: dir, error: (err as Error).message });
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name), result);
  thaw(dir);
  const deadline = Date.now() + 2000;
  for (;;) {
    const pids = procsOf(dir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      rmdirSync(dir);
      result.removed.push(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      // EBUSY while dying processes leave it.
      if (code !== 'EBUSY' || Date.now() > deadline) {
        result.failed.push({ path: dir, error: `${(err as Error).message}${pids.length > 0 ? ` (pids still in it: ${pids.join(' ')})` : ''}` });
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function procsOf(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  } catch {
    return [];
  }
}

/** A frozen process does not die of SIGKILL until thawed (v1 freezer, v2 cgroup.freeze). */
function thaw(dir: string): void {
  for (const [file, value] of [['freezer.state', 'THAWED'], ['cgroup.freeze', '0']] as const) {
    try {
      // 'r+': never creates the file (a hierarchy without it has none).
      writeFileSync(join(dir, file), value, { flag: 'r+' });
    } catch {
      // not this hierarchy's file
    }
  }
}
