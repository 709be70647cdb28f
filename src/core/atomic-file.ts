// Crash-safe file replacement: readers see the old content or the new, never a torn file.
// A full or read-only file system is an error naming the file (NoSpaceError,
// ReadOnlyFileSystemError), and the temp file is removed: nothing half-written is left.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NoSpaceError, ReadOnlyFileSystemError, errnoCode } from './errors.js';

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', mode);
  } catch (err) {
    throw fileSystemError(err, path);
  }
  try {
    writeAll(fd, Buffer.from(data, 'utf8'));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw fileSystemError(err, path);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw fileSystemError(err, path);
  }
  // The rename itself is durable only once the directory is synced.
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** write(2) may write less than asked (a file system that fills up mid-way): loop until done. */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * ENOSPC, EDQUOT and EROFS as berth errors that name the file berth was writing; any other
 * error is returned as it is (its errno code kept for the callers that test it).
 */
export function fileSystemError(err: unknown, path: string): unknown {
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new NoSpaceError(`cannot write ${path}: no space left on its file system (${code}); free some space there and try again`, { cause: err });
  }
  if (code === 'EROFS') {
    return new ReadOnlyFileSystemError(`cannot write ${path}: its file system is mounted read-only (EROFS); remount it read-write`, { cause: err });
  }
  return err;
}

/** Temp files of writeFileAtomic left by a process killed between write and rename. */
export function isAtomicTempName(name: string): boolean {
  return /^\..+\.tmp-\d+$/.test(name);
}
