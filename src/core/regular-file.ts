// Reads a file that must be a regular file of bounded size (a bundle's config.json, berth's own
// config). Anything else is refused before a byte is read: a FIFO would block the read forever,
// a device could be endless or have side effects on open, a directory is no file at all. The
// file is opened without blocking and checked again on the open descriptor, so swapping it
// between the check and the read changes nothing.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { errnoCode } from './errors.js';

export type RegularFileRead =
  | { ok: true; text: string }
  | { ok: false; problem: 'missing' | 'not-regular' | 'too-large' | 'unreadable'; why: string; cause?: unknown };

/** What a file that is not a regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isFile()) return 'a regular file';
  return 'not a regular file';
}

/** Bytes in words: 4 MiB, 512 KiB, 100 bytes. */
export function byteCount(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Reads `path` (symlinks followed) as UTF-8 if it is a regular file of at most `maxBytes`. */
export function readRegularFile(path: string, maxBytes: number): RegularFileRead {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { ok: false, problem: 'missing', why: 'does not exist', cause: err };
    return { ok: false, problem: 'unreadable', why: (err as Error).message, cause: err };
  }
  const refused = check(st, maxBytes);
  if (refused) return refused;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return { ok: false, problem: 'unreadable', why: (err as Error).message, cause: err };
  }
  try {
    const opened = fstatSync(fd);
    if (opened.ino !== st.ino || opened.dev !== st.dev) return { ok: false, problem: 'not-regular', why: 'was replaced while it was opened; try again' };
    const again = check(opened, maxBytes);
    if (again) return again;
    // One byte more than allowed tells a file that grew past the limit since the stat.
    const buf = Buffer.alloc(Math.min(opened.size, maxBytes) + 1);
    let len = 0;
    for (;;) {
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
      if (len === buf.length) break;
    }
    if (len > maxBytes) return { ok: false, problem: 'too-large', why: `grew past the limit of ${byteCount(maxBytes)} while it was read` };
    return { ok: true, text: buf.subarray(0, len).toString('utf8') };
  } catch (err) {
    return { ok: false, problem: 'unreadable', why: (err as Error).message, cause: err };
  } finally {
    closeSync(fd);
  }
}

function check(st: Stats, maxBytes: number): RegularFileRead | undefined {
  if (!st.isFile()) return { ok: false, problem: 'not-regular', why: `is ${fileKind(st)}, not a regular file` };
  if (st.size > maxBytes) return { ok: false, problem: 'too-large', why: `is ${st.size} bytes, over the limit of ${byteCount(maxBytes)}` };
  return undefined;
}
