// Per-container locks with flock(2). The kernel drops a flock when its holder dies, so a berth
// killed in the middle of an operation never leaves a lock that blocks the next one. Node has
// no flock binding; koffi calls libc's (loaded only by verbs that lock).
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { BusyError, InternalError, errnoCode } from './errors.js';
import { sleep } from './clock.js';
import { clearHolder, describeHolder, readHolder, writeHolder } from './lock-holder.js';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

type FlockFn = (fd: number, op: number) => number;
let flockFn: FlockFn | undefined;
let errnoFn: (() => number) | undefined;

async function loadFlock(): Promise<FlockFn> {
  if (!flockFn) {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    flockFn = libc.func('int flock(int fd, int operation)') as FlockFn;
    errnoFn = () => koffi.errno();
  }
  return flockFn;
}

export interface Lock {
  release(): void;
}

/** How long a verb waits for another holder by default. Every wait is bounded. */
export const LOCK_TIMEOUT_MS = 30_000;

export interface LockOptions {
  /** How long to wait for another holder, in milliseconds (default LOCK_TIMEOUT_MS). */
  timeoutMs?: number;
  /** What is locked, for the error message. */
  what: string;
  /** A way out besides killing the holder, for the error message (e.g. "`berth delete --force c1` ends it"). */
  wayOut?: string;
}

/**
 * Takes an exclusive lock on an existing directory. If the directory is removed and recreated
 * while waiting, the lock is retaken on the new one (a lock on a removed inode guards nothing).
 * Resolves to undefined when the directory no longer exists.
 */
export async function lockDirectory(path: string, options: LockOptions): Promise<Lock | undefined> {
  const flock = await loadFlock();
  const deadline = Date.now() + (options.timeoutMs ?? LOCK_TIMEOUT_MS);
  let delay = 2;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) {
      if (sameInode(fd, path)) {
        // Who holds it, for anyone who finds it busy (core/lock-holder.ts).
        writeHolder(path);
        return {
          release: () => {
            clearHolder(path);
            closeSync(fd);
          },
        };
      }
      closeSync(fd);
      continue;
    }
    const errno = errnoFn?.() ?? 0;
    closeSync(fd);
    if (errno !== EWOULDBLOCK) throw new InternalError(`flock(${path}) failed with errno ${errno}`);
    if (Date.now() >= deadline) throw busy(path, options);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/** The error of a wait that timed out: who holds the lock and how to end the wait. */
function busy(path: string, options: LockOptions): BusyError {
  const waited = `${Math.round((options.timeoutMs ?? LOCK_TIMEOUT_MS) / 100) / 10} s`;
  const holder = readHolder(path);
  if (!holder) return new BusyError(`${options.what} is locked by another process (still after ${waited}; its pid is not known); try again later`);
  const out = [`wait for it to finish, or end it with \`kill ${holder.pid}\``];
  if (options.wayOut) out.push(options.wayOut);
  return new BusyError(`${options.what} is locked by ${describeHolder(holder)} (still after ${waited}): ${out.join('; ')}`, holder);
}

/** True when someone holds the directory's lock right now (a create in progress). */
export async function isDirectoryLocked(path: string): Promise<boolean> {
  const flock = await loadFlock();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    return flock(fd, LOCK_SH | LOCK_NB) !== 0;
  } finally {
    closeSync(fd);
  }
}

function sameInode(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
