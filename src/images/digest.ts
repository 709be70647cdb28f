// Content digests ("sha256:<hex>", "sha512:<hex>"): parsed strictly (they become file and
// dataset names) and verified while a blob streams through, in one pass.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ImageError } from '../core/errors.js';

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

export function parseDigest(digest: unknown, what: string): ParsedDigest {
  const m = typeof digest === 'string' ? /^(sha256|sha512):([a-f0-9]+)$/.exec(digest) : null;
  if (!m || m[2]!.length !== HEX_LENGTH[m[1]!]) {
    throw new ImageError(`${what} has an unusable digest ${JSON.stringify(digest)} (expected sha256:<64 hex> or sha512:<128 hex>)`);
  }
  return { algorithm: m[1] as ParsedDigest['algorithm'], hex: m[2]! };
}

/**
 * Passes bytes through while hashing and counting them. Fails as soon as more than `size` bytes
 * arrive, and at the end when the size or the digest differ. `size` undefined: not checked.
 */
export class DigestVerifier extends Transform {
  private readonly hash;
  private count = 0;

  constructor(
    private readonly expected: string,
    private readonly size: number | undefined,
    private readonly what: string,
  ) {
    super();
    this.hash = createHash(parseDigest(expected, what).algorithm);
  }

  /** True when what was absorbed is all of it and hashes right (a whole partial file). */
  matches(): boolean {
    return (this.size === undefined || this.count === this.size) && `${this.expected.split(':')[0]}:${this.hash.copy().digest('hex')}` === this.expected;
  }

  /** Counts bytes that are already on disk (a resumed download) without passing them on. */
  absorb(chunk: Buffer): void {
    this.count += chunk.length;
    this.hash.update(chunk);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) {
      done(new ImageError(`${this.what}: more than the ${this.size} bytes its descriptor declares`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.size !== undefined && this.count !== this.size) {
      done(new ImageError(`${this.what}: ${this.count} bytes instead of the ${this.size} its descriptor declares (truncated?)`));
      return;
    }
    const actual = `${this.expected.split(':')[0]}:${this.hash.digest('hex')}`;
    if (actual !== this.expected) {
      done(new ImageError(`${this.what}: digest mismatch: the content hashes to ${actual}, not ${this.expected}`));
      return;
    }
    done();
  }
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
