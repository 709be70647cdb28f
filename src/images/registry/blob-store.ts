// Pulled blobs, kept by digest under STATE_DIR/images/blobs/<alg>/<hex>: a layer another image
// already brought is not downloaded again. A blob streams into a temp file under
// STATE_DIR/images/tmp through the digest check and is renamed into place only when the digest
// and size are right: a mismatch leaves nothing behind; a body that broke off is resumed with
// a Range request (at once, and by the next pull from STATE_DIR/images/partial).
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, existsSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { DigestVerifier, parseDigest } from '../digest.js';
import { RegistryUnreachableError } from './registry-errors.js';
import { retryableError, retryDelay, sleep } from './retry.js';

/**
 * Appends each chunk to `file` as it comes (a synchronous write: a body that breaks off leaves
 * on disk every byte that arrived, for the resume), fsync at the end so a renamed blob is whole.
 */
function appendingSink(file: string): Writable {
  const fd = openSync(file, 'a');
  let open = true;
  // Once only: a closed descriptor's number may already belong to another file.
  const close = (err: Error | null, cb: (e?: Error | null) => void): void => {
    if (open) {
      open = false;
      closeSync(fd);
    }
    cb(err);
  };
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        writeSync(fd, chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    final(cb) {
      try {
        fsyncSync(fd);
        close(null, cb);
      } catch (err) {
        close(err as Error, cb);
      }
    },
    destroy(err, cb) {
      close(err, cb);
    },
  });
}

export class BlobStore {
  readonly blobs: string;
  readonly tmp: string;
  /** Interrupted downloads by digest (`<alg>-<hex>`), resumed by the next pull. */
  readonly partial: string;

  constructor(imagesDir: string) {
    this.blobs = join(imagesDir, 'blobs');
    this.tmp = join(imagesDir, 'tmp');
    this.partial = join(imagesDir, 'partial');
  }

  path(digest: string): string {
    const d = parseDigest(digest, 'blob');
    return join(this.blobs, d.algorithm, d.hex);
  }

  /** True when the blob is stored with the expected size (its digest is checked again on import). */
  has(digest: string, size: number): boolean {
    try {
      return statSync(this.path(digest)).size === size;
    } catch {
      return false;
    }
  }

  /** Where an interrupted download of `digest` waits to be resumed. */
  partialPath(digest: string): string {
    const d = parseDigest(digest, 'blob');
    return join(this.partial, `${d.algorithm}-${d.hex}`);
  }

  /**
   * Brings blob `digest` into the store through the digest and size check; the path once it is
   * there. `open(offset)` asks the registry for the bytes from `offset` (a Range request) and
   * says where its stream really starts. A body that breaks off (reset, timeout) is resumed from
   * what arrived, up to `attempts` times; a download that still fails is kept under partial/ for
   * the next pull to resume. A digest or size mismatch removes everything.
   */
  async put(digest: string, size: number, open: (offset: number) => Promise<{ body: Readable; start: number }>, what: string, attempts = 5): Promise<string> {
    const final = this.path(digest);
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(join(final, '..'), { recursive: true });
    const temp = join(this.tmp, `blob-${randomBytes(6).toString('hex')}`);
    // Claimed by a rename: two pulls of one blob never append to the same file.
    let have = 0;
    try {
      renameSync(this.partialPath(digest), temp);
      have = statSync(temp).size;
    } catch {
      // None to resume. Opened here, not by a stream: the file exists before the first byte, so
      // a failed pipeline's removal below cannot race the stream's own (asynchronous) open.
      closeSync(openSync(temp, 'wx'));
    }
    if (have > size) {
      truncateSync(temp, 0);
      have = 0;
    }
    if (have === size) {
      // Whole already (a pull killed before the rename): stored if it is right, else fetched again.
      const verifier = new DigestVerifier(digest, size, what);
      for await (const chunk of createReadStream(temp)) verifier.absorb(chunk as Buffer);
      if (verifier.matches()) {
        renameSync(temp, final);
        return final;
      }
      truncateSync(temp, 0);
      have = 0;
    }
    try {
      for (let attempt = 1; ; attempt++) {
        const verifier = new DigestVerifier(digest, size, what);
        const { body, start } = await open(have);
        if (start !== have) {
          // The registry sent the blob from its start (no Range support): begin again.
          truncateSync(temp, 0);
          have = 0;
        }
        if (have > 0) for await (const chunk of createReadStream(temp)) verifier.absorb(chunk as Buffer);
        try {
          await pipeline(body, verifier, appendingSink(temp));
          renameSync(temp, final);
          return final;
        } catch (err) {
          if (!retryableError(err)) throw err;
          have = statSync(temp).size;
          if (attempt >= attempts) {
            mkdirSync(this.partial, { recursive: true });
            renameSync(temp, this.partialPath(digest));
            throw new RegistryUnreachableError(`${what}: the download broke off after ${have} of ${size} bytes (${(err as { code?: string }).code ?? (err as Error).message}), ${attempts} times; pull again to resume it`, { cause: err });
          }
          await log('debug', `${what}: broke off after ${have} of ${size} bytes; resuming (try ${attempt + 1} of ${attempts})`, { op: 'image-pull' });
          await sleep(retryDelay(attempt, undefined));
        }
      }
    } catch (err) {
      // Bytes that arrived whole are kept for the next pull unless the blob itself was wrong.
      if (!(err instanceof ImageError) && existsSync(temp) && statSync(temp).size > 0) {
        mkdirSync(this.partial, { recursive: true });
        renameSync(temp, this.partialPath(digest));
      }
      rmSync(temp, { force: true });
      throw err;
    }
  }

  /** A small blob already verified in memory (a manifest), stored by a rename. */
  putBytes(digest: string, body: Buffer): void {
    const final = this.path(digest);
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(join(final, '..'), { recursive: true });
    const temp = join(this.tmp, `blob-${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(temp, body, { flag: 'wx' });
      renameSync(temp, final);
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /** A stored blob placed at `dest` (a hard link; a copy across file systems). */
  placeAt(digest: string, dest: string): void {
    mkdirSync(join(dest, '..'), { recursive: true });
    if (existsSync(dest)) return;
    try {
      linkSync(this.path(digest), dest);
    } catch {
      copyFileSync(this.path(digest), dest);
    }
  }
}
