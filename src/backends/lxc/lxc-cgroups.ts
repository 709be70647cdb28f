// The cgroups of an LXC container, seen from the host: its processes (ps, kill --all), whether
// it is frozen, and the directories LXC leaves behind (the monitor's pivot cgroup), removed at
// delete.
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMountPoints } from '../../core/cgroup-mode.js';
import { errnoCode } from '../../core/errors.js';

interface Membership {
  /** Directory of the process's cgroup in one hierarchy that has a pids (else any) controller. */
  dir: string;
  /** Its freezer state file, if the host has one. */
  freezer: string | undefined;
}

/** Where `pid` sits: /proc/PID/cgroup lines are "id:controllers:path" (v2: "0::path"). */
function membership(pid: number): Membership | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.trim().split('\n').map((l) => {
    const [, , controllers = '', path = ''] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
    return { controllers: controllers.split(','), path };
  });
  const v1 = (c: string) => lines.find((l) => l.controllers.includes(c));
  const v2 = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === '');
  const pids = v1('pids');
  const freezer = v1('freezer');
  if (pids) {
    return { dir: join('/sys/fs/cgroup/pids', pids.path), freezer: freezer ? join('/sys/fs/cgroup/freezer', freezer.path, 'freezer.state') : undefined };
  }
  if (v2) {
    const dir = join(lines.length === 1 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified', v2.path);
    return { dir, freezer: freezer ? join('/sys/fs/cgroup/freezer', freezer.path, 'freezer.state') : join(dir, 'cgroup.freeze') };
  }
  return undefined;
}

/** Every pid in the cgroup of `initPid` and below it (the container's processes), sorted. */
export function containerPids(initPid: number): number[] {
  const m = membership(initPid);
  if (!m) return [];
  const pids: number[] = [];
  const visit = (dir: string): void => {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.push(Number(p));
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) visit(join(dir, e.name));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  };
  visit(m.dir);
  return [...new Set(pids)].sort((a, b) => a - b);
}

/** Whether the container of `initPid` is frozen (v1 freezer.state FROZEN, or v2 cgroup.freeze 1). */
export function isFrozen(initPid: number): boolean {
  const file = membership(initPid)?.freezer;
  if (!file) return false;
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === 'FROZEN' || text === 'FREEZING' || text === '1';
  } catch {
    return false;
  }
}

/**
 * Removes the (empty) cgroup directories `relative` in every hierarchy, with what LXC nests in
 * them; never their parents, which other containers share. A cgroup that still has processes
 * is left (rmdir refuses) and returned.
 */
export function removeCgroupDirs(relative: string[]): string[] {
  const left: string[] = [];
  for (const root of cgroupMountPoints()) {
    for (const rel of relative) {
      const dir = join(root, rel.replace(/^\/+/, ''));
      try {
        removeTree(dir);
      } catch (err) {
        const code = errnoCode(err);
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY') left.push(dir);
      }
    }
  }
  return left;
}

/** rmdir of a cgroup and the (empty) cgroups below it, deepest first; LXC nests lxc.pivot in the pivot. */
function removeTree(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  for (const c of children) removeTree(join(dir, c));
  rmdirSync(dir);
}
