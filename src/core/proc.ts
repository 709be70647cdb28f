// Facts about host processes from /proc. A pid alone is not an identity: pids are reused, so
// berth pairs each pid with its start time (field 22 of /proc/PID/stat, in clock ticks).
import { readFileSync, readdirSync, statSync } from 'node:fs';

export interface ProcStat {
  state: string;
  startTime: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const startTime = Number(rest[19]);
  return { state, startTime };
}

/** True when `pid` is alive (not a zombie) and is the same process that started at `startTime`. */
export function isSameLiveProcess(pid: number, startTime: number | undefined): boolean {
  const stat = readProcStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/**
 * The identity ("dev:ino") of the file a process runs (/proc/PID/exe), or undefined when it
 * cannot be known. It changes exactly when the process execs another program.
 */
export function executableId(pid: number): string | undefined {
  try {
    const st = statSync(`/proc/${pid}/exe`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** When the process started, in ms since the epoch (its start time in ticks after the boot time), or undefined. */
export function processStartMs(pid: number): number | undefined {
  const stat = readProcStat(pid);
  if (!stat) return undefined;
  try {
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux architecture berth runs on.
    return Number.isFinite(btime) ? btime * 1000 + stat.startTime * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Parent pid (field 4 of /proc/PID/stat), or undefined when the process is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The process's command line, its arguments joined by spaces ('' when gone or a kernel thread). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '').join(' ');
  } catch {
    return '';
  }
}

/** Every live descendant of `pid` (children first, then theirs), from the ppid links in /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = Number(name);
    const pp = parentPid(p);
    if (pp === undefined) continue;
    const list = children.get(pp) ?? [];
    list.push(p);
    children.set(pp, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (out.includes(c)) continue;
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/**
 * SIGKILLs `pid` (when it still is the process that started at `startTime`) and every process
 * below it. The tree is frozen first (SIGSTOP, repeated until no new child appears), so a
 * process cannot fork a child that escapes the kill. Resolves to the pids killed, once `pid` is
 * dead (at most `waitMs`).
 */
export async function killProcessTree(pid: number, startTime: number | undefined, waitMs = 5000): Promise<number[]> {
  if (pid === process.pid || !isSameLiveProcess(pid, startTime)) return [];
  const signal = (p: number, s: NodeJS.Signals): void => {
    try {
      process.kill(p, s);
    } catch {
      // gone already
    }
  };
  signal(pid, 'SIGSTOP');
  let tree: number[] = [];
  for (let i = 0; i < 20; i++) {
    const found = descendants(pid).filter((p) => p !== process.pid);
    for (const p of found) signal(p, 'SIGSTOP');
    if (found.length === tree.length && found.every((p) => tree.includes(p))) break;
    tree = found;
  }
  const all = [pid, ...tree];
  for (const p of all) signal(p, 'SIGKILL');
  const deadline = Date.now() + waitMs;
  while (isSameLiveProcess(pid, startTime) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return all;
}
