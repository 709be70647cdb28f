// Facts about host processes from /proc. A pid alone is not an identity: pids are reused, so
// berth pairs each pid with its start time (field 22 of /proc/PID/stat, in clock ticks).
import { readFileSync } from 'node:fs';

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
