// The engine learns its containers' exits as their subreaper: a `crun create`'s init is
// reparented to it when crun exits. On SIGCHLD it waits for each pid it watches, by pid and
// WNOHANG: never waitpid(-1), which would take libuv's own children (the backends' tools) from
// it. A slow poll backs the signal up (a pid watched after its SIGCHLD came is still a zombie
// and is reaped at once).
// Other orphans come too: what a failed `crun exec` leaves in the container. Unreaped, such a
// zombie keeps the container's pid namespace alive, and its init cannot finish exiting (a
// KILLed init hangs in the kernel's zap_pid_ns_processes). So zombie children that are in
// another pid namespace (NSpid has more than one level) are reaped too: libuv's children (the
// tools berth runs) live in the engine's own. Not at once: an exec's process may be such a
// zombie before its pid file was read and it is watched, so an orphan is reaped only once it has
// been seen for ORPHAN_GRACE_MS.
import { readdirSync, readFileSync } from 'node:fs';
import { becomeSubreaper, reapPid } from './libc.js';

/** The engine's children: /proc/self/task/<tid>/children of every thread. */
function children(): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        for (const p of readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (p) out.push(Number(p));
      } catch {
        // the thread ended
      }
    }
  } catch {
    // no /proc: only the watched pids are reaped
  }
  return out;
}

/** A zombie in a pid namespace below the engine's: a container's, never one of libuv's tools. */
function isContainerZombie(pid: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const state = /^State:\s+(\S)/m.exec(status)?.[1];
  const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
  return state === 'Z' && nspid.length > 1;
}

const POLL_MS = 1_000;
const ORPHAN_GRACE_MS = 2_000;

export interface Exit {
  exitStatus: number;
  exitedAt: Date;
}

export class Reaper {
  private readonly watched = new Map<number, (exit: Exit) => void>();
  /** Zombie orphans, by pid: when first seen. */
  private readonly orphans = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    becomeSubreaper();
    process.on('SIGCHLD', () => this.sweep());
  }

  /** Calls `onExit` once, when `pid` (a child of this process by now) has exited. */
  watch(pid: number, onExit: (exit: Exit) => void): void {
    this.watched.set(pid, onExit);
    this.sweep();
  }

  private sweep(): void {
    const now = Date.now();
    const zombies = children().filter((pid) => !this.watched.has(pid) && isContainerZombie(pid));
    for (const pid of [...this.orphans.keys()]) if (!zombies.includes(pid)) this.orphans.delete(pid);
    for (const pid of zombies) {
      const seen = this.orphans.get(pid);
      if (seen === undefined) this.orphans.set(pid, now);
      else if (now - seen >= ORPHAN_GRACE_MS) {
        this.orphans.delete(pid);
        reapPid(pid);
      }
    }
    for (const [pid, onExit] of this.watched) {
      const r = reapPid(pid);
      if (r === undefined) continue;
      this.watched.delete(pid);
      onExit({ exitStatus: r.exitStatus, exitedAt: new Date() });
    }
    if (this.watched.size === 0 && this.orphans.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    } else this.timer ??= setInterval(() => this.sweep(), POLL_MS);
  }
}
