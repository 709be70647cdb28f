// The few libc calls the engine needs that Node lacks, through koffi (as core/lock.ts does for
// flock): prctl(PR_SET_CHILD_SUBREAPER), waitpid of one pid, fcntl's file status flags.
import koffi from 'koffi';

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

const libc = koffi.load('libc.so.6');
const prctl = libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as (o: number, a: number, b: number, c: number, d: number) => number;
const waitpidFn = libc.func('int waitpid(int pid, _Out_ int *status, int options)') as (pid: number, status: number[], options: number) => number;
const fcntlFn = libc.func('int fcntl(int fd, int cmd, int arg)') as (fd: number, cmd: number, arg: number) => number;

/** Orphaned descendants (a container's init once `crun create` exits) become this process's children. */
export function becomeSubreaper(): void {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) throw new Error(`prctl(PR_SET_CHILD_SUBREAPER) failed with errno ${koffi.errno()}`);
}

/** How a reaped child ended, as containerd reports it: its exit code, or 128 + the signal. */
export type Reaped = { exitStatus: number } | undefined;

/**
 * Reaps `pid` if it has exited (WNOHANG): its status, or undefined while it runs. A pid that is
 * not (or no longer) our child is reported as exited with 255, since its status cannot be known.
 */
export function reapPid(pid: number): Reaped {
  const status = [0];
  const r = waitpidFn(pid, status, WNOHANG);
  if (r === 0) return undefined;
  if (r < 0) return { exitStatus: 255 };
  const s = status[0]!;
  const signal = s & 0x7f;
  return signal === 0 ? { exitStatus: (s >> 8) & 0xff } : { exitStatus: 128 + signal };
}

/** Clears O_NONBLOCK on an fd (shared with whoever else holds its open file description). */
export function setBlocking(fd: number): void {
  const flags = fcntlFn(fd, F_GETFL, 0);
  if (flags < 0 || fcntlFn(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) throw new Error(`fcntl(${fd}) failed with errno ${koffi.errno()}`);
}
