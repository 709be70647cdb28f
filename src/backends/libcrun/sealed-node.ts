// A sealed in-memory copy of the Node binary, to run the libcrun worker from.
//
// libcrun's load-time constructor (libcrun_rexec, crun's CVE-2019-5736 defence) re-executes the
// process that loads it from a sealed memfd copy of /proc/self/exe, unless /proc/self/exe
// already is one (seals exactly SEAL|SHRINK|GROW|WRITE) or lies on a read-only filesystem.
// berth does that copy itself, once per worker, and starts the worker from it: the constructor
// then sees a sealed copy and leaves the worker alone, the protection holds (a container process
// forked from the worker cannot reach a writable host binary through /proc/PID/exe), and the
// worker keeps the stdio berth gives it (the constructor's own re-exec would lose it).
import { closeSync, fstatSync, openSync } from 'node:fs';
import { BackendUnavailableError } from '../../core/errors.js';

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
/** F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: what libcrun checks for. */
export const CRUN_MEMFD_SEALS = 0x1 | 0x2 | 0x4 | 0x8;

interface Libc {
  memfdCreate(name: string, flags: number): number;
  sendfile(out: number, inp: number, offset: null, count: number): number | bigint;
  fcntl(fd: number, cmd: number, arg: number): number;
  errno(): number;
}

let libc: Libc | undefined;

async function loadLibc(): Promise<Libc> {
  if (!libc) {
    const koffi = (await import('koffi')).default;
    const lib = koffi.load('libc.so.6');
    libc = {
      memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)') as Libc['memfdCreate'],
      sendfile: lib.func('intptr_t sendfile(int out_fd, int in_fd, void *offset, size_t count)') as Libc['sendfile'],
      fcntl: lib.func('int fcntl(int fd, int cmd, int arg)') as Libc['fcntl'],
      errno: () => koffi.errno(),
    };
  }
  return libc;
}

export interface SealedCopy {
  /** The memfd, close-on-exec; exec `/proc/<berth pid>/fd/<fd>` to run the copy. */
  fd: number;
  path: string;
  close(): void;
}

/** Copies `binary` (default: this Node) into a sealed memfd. The caller closes it after exec. */
export async function sealedCopy(binary: string = process.execPath): Promise<SealedCopy> {
  const c = await loadLibc();
  const fd = c.memfdCreate('berth-libcrun-node', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw new BackendUnavailableError(`load failed: memfd_create failed (errno ${c.errno()})`);
  try {
    const src = openSync(binary, 'r');
    try {
      let left = fstatSync(src).size;
      while (left > 0) {
        const n = Number(c.sendfile(fd, src, null, left));
        if (n <= 0) throw new BackendUnavailableError(`load failed: copying ${binary} into a memfd failed (errno ${c.errno()})`);
        left -= n;
      }
    } finally {
      closeSync(src);
    }
    if (c.fcntl(fd, F_ADD_SEALS, CRUN_MEMFD_SEALS) !== 0 || c.fcntl(fd, F_GET_SEALS, 0) !== CRUN_MEMFD_SEALS) {
      throw new BackendUnavailableError(`load failed: sealing the memfd copy of ${binary} failed (errno ${c.errno()})`);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return { fd, path: `/proc/${process.pid}/fd/${fd}`, close: () => closeSync(fd) };
}
