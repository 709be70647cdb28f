// The engine learns its containers' exits as their subreaper: a `crun create`'s init is
// reparented to it when crun exits. On SIGCHLD it waits for each pid it watches, by pid and
// WNOHANG: never waitpid(-1), which would take libuv's own children (the backends' tools) from
// it. A slow poll backs the signal up (a pid watched after its SIGCHLD came is still a zombie
// and is reaped at once).
import { becomeSubreaper, reapPid } from './libc.js';

const POLL_MS = 1_000;

export interface Exit {
  exitStatus: number;
  exitedAt: Date;
}

export class Reaper {
  private readonly watched = new Map<number, (exit: Exit) => void>();
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    becomeSubreaper();
    process.on('SIGCHLD', () => this.sweep());
  }

  /** Calls `onExit` once, when `pid` (a child of this process by now) has exited. */
  watch(pid: number, onExit: (exit: Exit) => void): void {
    this.watched.set(pid, onExit);
    this.timer ??= setInterval(() => this.sweep(), POLL_MS);
    this.sweep();
  }

  private sweep(): void {
    for (const [pid, onExit] of this.watched) {
      const r = reapPid(pid);
      if (r === undefined) continue;
      this.watched.delete(pid);
      onExit({ exitStatus: r.exitStatus, exitedAt: new Date() });
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
