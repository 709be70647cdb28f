// Who holds a lock: the holder writes its pid, start time and command line into a small file
// beside the lock right after taking it (".<name>.holder" in the same directory), and removes it
// before letting go. A process that finds the lock busy reads it to name the holder and the way
// out. A holder that did not write one (an older berth, flock(1)) is found in /proc/locks.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { commandLine, descendants, isSameLiveProcess, readProcStat } from './proc.js';

export interface LockHolder {
  pid: number;
  /** Start time of the pid (clock ticks since boot), so a reused pid is not taken for it. */
  startTime: number | undefined;
  /** Its command line, e.g. "berth --root /run/berth create c1". */
  command: string;
  /** When it took the lock (ISO time); undefined when found in /proc/locks. */
  since: string | undefined;
}

export function holderFile(lockPath: string): string {
  return join(dirname(lockPath), `.${basename(lockPath)}.holder`);
}

/** This process's command line as a person would have typed it. */
function ownCommand(): string {
  const script = process.argv[1] ?? '';
  const args = process.argv.slice(2);
  return /berth(\.js)?$/.test(script) ? ['berth', ...args].join(' ') : commandLine(process.pid);
}

/** Written by the holder right after it took the lock. Never fails the locked operation. */
export function writeHolder(lockPath: string): void {
  const holder: LockHolder = { pid: process.pid, startTime: readProcStat(process.pid)?.startTime, command: ownCommand(), since: new Date().toISOString() };
  const file = holderFile(lockPath);
  const tmp = `${file}.${process.pid}`;
  try {
    // No fsync: locks do not survive a reboot, neither need their holders.
    writeFileSync(tmp, JSON.stringify(holder) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** Removed by the holder before it lets go. */
export function clearHolder(lockPath: string): void {
  try {
    const held = JSON.parse(readFileSync(holderFile(lockPath), 'utf8')) as Partial<LockHolder>;
    if (held.pid !== process.pid) return;
  } catch {
    return;
  }
  rmSync(holderFile(lockPath), { force: true });
}

/**
 * The live process that holds the lock on `lockPath`, as far as it can be known: its holder
 * file if that names a live process, else the FLOCK entry of /proc/locks for the path's inode.
 */
export function readHolder(lockPath: string): LockHolder | undefined {
  try {
    const held = JSON.parse(readFileSync(holderFile(lockPath), 'utf8')) as Partial<LockHolder>;
    if (Number.isInteger(held.pid) && isSameLiveProcess(held.pid!, held.startTime)) {
      return { pid: held.pid!, startTime: held.startTime, command: String(held.command ?? commandLine(held.pid!)), since: held.since };
    }
  } catch {
    // no holder file, or a torn one: ask the kernel
  }
  const pid = flockOwner(lockPath);
  if (pid === undefined) return undefined;
  return { pid, startTime: readProcStat(pid)?.startTime, command: commandLine(pid), since: undefined };
}

/** The pid of the FLOCK on the path's inode in /proc/locks ("1: FLOCK ADVISORY WRITE 123 08:01:456 0 EOF"). */
function flockOwner(path: string): number | undefined {
  let ino: number;
  let dev: string;
  try {
    const st = statSync(path);
    ino = st.ino;
    // /proc/locks prints the device as major:minor in hex (the kernel's dev_t split).
    const major = Math.floor(st.dev / 256) & 0xfff;
    const minor = (st.dev & 0xff) | (Math.floor(st.dev / 4096) & ~0xff & 0xfffff);
    dev = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
  } catch {
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Blocked waiters are shown as "1: -> FLOCK ...": only holders count, and only exclusive
    // ones (a READ lock is a status probe, isDirectoryLocked, never the holder).
    if (f[1] !== 'FLOCK' || f[3] !== 'WRITE') continue;
    const pid = Number(f[4]);
    const [maj, min, inode] = (f[5] ?? '').split(':');
    if (Number(inode) === ino && `${maj}:${min}` === dev && Number.isInteger(pid) && pid > 0 && pid !== process.pid && readProcStat(pid)) return pid;
  }
  return undefined;
}

/** "berth pid 123 (`berth create c1`) for 31 s; below it: 130 `crun create …`, 140 `sleep 1000`". */
export function describeHolder(h: LockHolder): string {
  const since = h.since ? ` for ${Math.max(0, Math.round((Date.now() - Date.parse(h.since)) / 1000))} s` : '';
  const below = descendants(h.pid)
    .slice(0, 5)
    .map((p) => `${p} \`${shorten(commandLine(p))}\``);
  return `pid ${h.pid} (\`${shorten(h.command)}\`)${since}${below.length > 0 ? `; below it: ${below.join(', ')}` : ''}`;
}

function shorten(s: string): string {
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
