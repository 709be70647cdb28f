// Per-container resource figures read from the container's own cgroup: the cgroup of its init
// process (/proc/<pid>/cgroup), found under the cgroup mounts of /proc/self/mountinfo. cgroup v1
// (and hybrid hosts: cpuacct.usage, memory.usage_in_bytes, pids.current in each controller's
// hierarchy) and v2 (cpu.stat usage_usec, memory.current, pids.current; Proxmox VE 8 and 9).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupFigures {
  cpuSeconds: number | undefined;
  memoryBytes: number | undefined;
  pids: number | undefined;
}

interface Mount {
  mountPoint: string;
  /** The hierarchy path mounted there (field 4 of mountinfo; "/" unless in a namespace). */
  root: string;
}

export interface CgroupMounts {
  /** v1 hierarchies by controller name (cpuacct, memory, pids …). */
  v1: Map<string, Mount>;
  v2: Mount | undefined;
}

/** mountinfo escapes spaces and a few other characters as \\ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const out: CgroupMounts = { v1: new Map(), v2: undefined };
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields.length < dash + 3) continue;
    const type = fields[dash + 1];
    const mount: Mount = { root: unescape(fields[3]!), mountPoint: unescape(fields[4]!) };
    if (type === 'cgroup2') out.v2 = mount;
    else if (type === 'cgroup') for (const opt of fields[dash + 3]!.split(',')) if (!out.v1.has(opt)) out.v1.set(opt, mount);
  }
  return out;
}

/** Where a cgroup path of a hierarchy is on this host's file system; undefined if outside the mount. */
function directory(mount: Mount, path: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (root !== '' && path !== root && !path.startsWith(root + '/')) return undefined;
  return join(mount.mountPoint, path.slice(root.length));
}

/** The cgroup directory of `controller` for a process, from the text of /proc/<pid>/cgroup. */
export function cgroupDirectory(procCgroup: string, mounts: CgroupMounts, controller: 'cpuacct' | 'memory' | 'pids'): { dir: string; version: 1 | 2 } | undefined {
  let unified: string | undefined;
  for (const line of procCgroup.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (line.slice(0, first) === '0' && controllers === '') unified = path;
    else if (controllers.split(',').includes(controller)) {
      const mount = mounts.v1.get(controller);
      const dir = mount && directory(mount, path);
      if (dir) return { dir, version: 1 };
    }
  }
  if (unified !== undefined && mounts.v2) {
    const dir = directory(mounts.v2, unified);
    if (dir) return { dir, version: 2 };
  }
  return undefined;
}

const buffer = Buffer.alloc(4096);

/** A small cgroup file's text (open, one read, close: cheaper than readFileSync's fstat); undefined if unreadable. */
function readSmall(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readNumber(path: string): number | undefined {
  const text = readSmall(path);
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

function cpuStatUsage(path: string): number | undefined {
  const m = /^usage_usec (\d+)$/m.exec(readSmall(path) ?? '');
  return m ? Number(m[1]) / 1e6 : undefined;
}

/** The files a container's figures are read from (undefined: the host does not offer it). */
export interface CgroupFiles {
  cpu: { path: string; version: 1 | 2 } | undefined;
  memory: string | undefined;
  pids: string | undefined;
}

/** Where the figures of the cgroup that process `pid` is in are; undefined when the process is gone. */
export function cgroupFiles(pid: number, mounts: CgroupMounts, procRoot = '/proc'): CgroupFiles | undefined {
  let procCgroup: string;
  try {
    procCgroup = readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8');
  } catch {
    return undefined;
  }
  const cpu = cgroupDirectory(procCgroup, mounts, 'cpuacct');
  const memory = cgroupDirectory(procCgroup, mounts, 'memory');
  const pids = cgroupDirectory(procCgroup, mounts, 'pids');
  return {
    cpu: cpu && { path: join(cpu.dir, cpu.version === 1 ? 'cpuacct.usage' : 'cpu.stat'), version: cpu.version },
    memory: memory && join(memory.dir, memory.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'),
    pids: pids && join(pids.dir, 'pids.current'),
  };
}

export function readFigures(files: CgroupFiles): CgroupFigures {
  return {
    cpuSeconds: files.cpu === undefined ? undefined : files.cpu.version === 1 ? scale(readNumber(files.cpu.path), 1e-9) : cpuStatUsage(files.cpu.path),
    memoryBytes: files.memory === undefined ? undefined : readNumber(files.memory),
    pids: files.pids === undefined ? undefined : readNumber(files.pids),
  };
}

/**
 * The figures of the cgroup that process `pid` is in; undefined when the process is gone.
 * A figure the host does not offer (no pids controller, say) is undefined.
 */
export function readCgroupFigures(pid: number, mounts: CgroupMounts, procRoot = '/proc'): CgroupFigures | undefined {
  const files = cgroupFiles(pid, mounts, procRoot);
  return files && readFigures(files);
}

const scale = (n: number | undefined, by: number): number | undefined => (n === undefined ? undefined : n * by);
