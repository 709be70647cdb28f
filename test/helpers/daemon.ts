// Long-running processes started by tests (berth serve, Prometheus): output to a log file, a
// free loopback port, and a stop by PID that waits for the exit (KILL after a grace period).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Daemon {
  pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with its exit code (or signal name) once it has exited. */
  exited: Promise<number | string>;
  /** SIGTERM, wait up to graceMs, then SIGKILL; resolves with how it exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/** A port free on 127.0.0.1 right now (the kernel's choice, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function startDaemon(file: string, args: string[], logFile: string): Daemon {
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  let done = false;
  void exited.then(() => (done = true), () => (done = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${file} did not start`);
  return {
    pid,
    exited,
    output: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    stop: async (graceMs = 10_000) => {
      if (!done) process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => !done && process.kill(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
