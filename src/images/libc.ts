// The two calls Node has no binding for and layer unpacking needs: mknod(2) for device nodes
// and FIFOs, lsetxattr(2) for extended attributes. Through koffi (already loaded by core/lock.ts
// for flock): one call per node, no process per node as with the mknod CLI, and errno kept.
import { ImageError } from '../core/errors.js';

type Mknod = (path: string, mode: number, dev: bigint) => number;
type Lsetxattr = (path: string, name: string, value: Buffer, size: number, flags: number) => number;

let calls: { mknod: Mknod; lsetxattr: Lsetxattr; errno: () => number } | undefined;

async function libc(): Promise<NonNullable<typeof calls>> {
  if (!calls) {
    const koffi = (await import('koffi')).default;
    const lib = koffi.load('libc.so.6');
    calls = {
      mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)') as Mknod,
      lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)') as Lsetxattr,
      errno: () => koffi.errno(),
    };
  }
  return calls;
}

/** Loads libc up front, so the per-entry calls stay synchronous. */
export async function loadLibc(): Promise<void> {
  await libc();
}

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** glibc's makedev: 12+20 bits of major, 8+24 bits of minor. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function mknodSync(path: string, type: number, permissions: number, dev: bigint, entry: string): void {
  if (!calls) throw new Error('libc not loaded');
  if (calls.mknod(path, type | (permissions & 0o7777), dev) !== 0) {
    throw new ImageError(`layer entry "${entry}": mknod failed (errno ${calls.errno()})`);
  }
}

const ENOTSUP = 95;

/** Sets an xattr on the path itself (not a symlink's target). False when the file system has none. */
export function lsetxattrSync(path: string, name: string, value: Buffer, entry: string): boolean {
  if (!calls) throw new Error('libc not loaded');
  if (calls.lsetxattr(path, name, value, value.length, 0) === 0) return true;
  const errno = calls.errno();
  if (errno === ENOTSUP) return false;
  throw new ImageError(`layer entry "${entry}": cannot set xattr ${name} (errno ${errno})`);
}
