// The host's cgroup layout (v2, hybrid, v1 or none) from /proc/self/mountinfo: `berth doctor`
// reports it, and the lxc backend chooses lxc.cgroup.* or lxc.cgroup2.* keys by it.
import { readFileSync } from 'node:fs';

export type CgroupMode = 'v2' | 'hybrid' | 'v1' | 'none';

export interface CgroupReport {
  mode: CgroupMode;
  /** Controllers the cgroup2 hierarchy owns (v2 and hybrid). */
  v2Controllers: string[];
  detail: string;
}

/** The filesystem type mounted at each mount point (the last mount there wins). */
function mountTypes(mountinfo: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields[4] === undefined || fields[dash + 1] === undefined) continue;
    types.set(fields[4], fields[dash + 1]!);
  }
  return types;
}

export function cgroupMode(mountinfo: string, readControllers: (dir: string) => string, root = '/sys/fs/cgroup'): CgroupReport {
  const types = mountTypes(mountinfo);
  const controllers = (dir: string): string[] => {
    try {
      return readControllers(`${dir}/cgroup.controllers`).split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  };
  if (types.get(root) === 'cgroup2') {
    return { mode: 'v2', v2Controllers: controllers(root), detail: `${root} is cgroup2 (unified)` };
  }
  const v1 = [...types.values()].some((t) => t === 'cgroup');
  const unified = `${root}/unified`;
  if (v1 && types.get(unified) === 'cgroup2') {
    const owned = controllers(unified);
    return {
      mode: 'hybrid',
      v2Controllers: owned,
      detail: `cgroup v1 controllers under ${root}, cgroup2 at ${unified} owning ${owned.length ? owned.join(', ') : 'no controllers'}`,
    };
  }
  if (v1) return { mode: 'v1', v2Controllers: [], detail: `cgroup v1 controllers under ${root}, no cgroup2` };
  return { mode: 'none', v2Controllers: [], detail: 'no cgroup hierarchy is mounted' };
}

/** This host's layout, read once per process. */
let hostReport: CgroupReport | undefined;
export function hostCgroupMode(): CgroupReport {
  hostReport ??= cgroupMode(readFileSync('/proc/self/mountinfo', 'utf8'), (p) => readFileSync(p, 'utf8'));
  return hostReport;
}

/** Mount points of every cgroup (v1) and cgroup2 hierarchy. */
export function cgroupMountPoints(mountinfo: string = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const points: string[] = [];
  for (const [point, type] of mountTypes(mountinfo)) if (type === 'cgroup' || type === 'cgroup2') points.push(point);
  return points;
}
