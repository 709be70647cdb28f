// Pulled blobs, kept by digest under STATE_DIR/images/blobs/<alg>/<hex>: a layer another image
// already brought is not downloaded again. A blob streams into a temp file under
// STATE_DIR/images/tmp through the digest check and is renamed into place only when the digest
// and size are right: a mismatch or a truncated body leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifier, parseDigest } from '../digest.js';

export class BlobStore {
  readonly blobs: string;
  readonly tmp: string;

  constructor(imagesDir: string) {
    this.blobs = join(imagesDir, 'blobs');
    this.tmp = join(imagesDir, 'tmp');
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

  /** Streams `body` to the store, verified against digest and size; the path once it is there. */
  async put(digest: string, size: number, body: Readable, what: string): Promise<string> {
    const final = this.path(digest);
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(join(final, '..'), { recursive: true });
    const temp = join(this.tmp, `blob-${randomBytes(6).toString('hex')}`);
    // Opened here, not by the stream: the file exists before the first byte, so a failed
    // pipeline's removal below cannot race the stream's own (asynchronous) open.
    const fd = openSync(temp, 'wx');
    try {
      // flush: fsync before close, so a renamed blob is on disk whole.
      await pipeline(body, new DigestVerifier(digest, size, what), createWriteStream(temp, { fd, flush: true }));
      renameSync(temp, final);
      return final;
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
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
