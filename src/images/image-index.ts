// The image index: STATE_DIR/images/index.json, a cache of what the pool already says (refs,
// config, platform, sizes) plus what only it knows (last use). Written atomically under the
// index lock; when it is missing, unreadable or disagrees with the pool, it is rebuilt from the
// templates' properties (the pool wins). Per-digest locks are directories under locks/, made
// for the lock and removed after it, so nothing is left between operations.
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { errnoCode } from '../core/errors.js';
import { isDirectoryLocked, lockDirectory, type Lock } from '../core/lock.js';
import type { ImageConfigSummary, ImageSource } from './types.js';

export interface IndexEntry {
  digest: string;
  refs: string[];
  size: number;
  created: string | undefined;
  imported: string;
  lastUsed: string | undefined;
  platform: { os: string; architecture: string; variant?: string };
  configDigest: string | undefined;
  config: ImageConfigSummary;
  parked: boolean;
  source?: ImageSource;
}

interface IndexFile {
  version: 1;
  images: Record<string, IndexEntry>;
}

const LOCK_TIMEOUT_MS = 10 * 60_000; // an import of a large image holds its digest's lock

export class ImageIndex {
  readonly dir: string;
  readonly file: string;
  private readonly locks: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'images');
    this.file = join(this.dir, 'index.json');
    this.locks = join(this.dir, 'locks');
  }

  /** The entries, or undefined when the file is missing or unreadable (then: rebuild). */
  read(): Record<string, IndexEntry> | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as IndexFile;
      return parsed.version === 1 && parsed.images && typeof parsed.images === 'object' ? parsed.images : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  write(images: Record<string, IndexEntry>): void {
    mkdirSync(this.dir, { recursive: true });
    const file: IndexFile = { version: 1, images };
    writeFileAtomic(this.file, JSON.stringify(file, null, 1) + '\n');
  }

  /** Read-modify-write under the index lock. */
  async update<T>(fn: (images: Record<string, IndexEntry>) => T): Promise<T> {
    mkdirSync(this.dir, { recursive: true });
    const lock = await lockDirectory(this.dir, { what: `the image index ${this.file}`, timeoutMs: 30_000 });
    try {
      const images = this.read() ?? {};
      const out = fn(images);
      this.write(images);
      return out;
    } finally {
      lock?.release();
    }
  }

  /** True while some berth holds the digest's lock (an import in progress). */
  async digestLocked(digest: string): Promise<boolean> {
    return isDirectoryLocked(join(this.locks, digest.replace(':', '-')));
  }

  /** Runs fn holding the lock of one digest (imports, removals, clones of that image). */
  withDigestLock<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    return this.withLock(digest.replace(':', '-'), `image ${digest}`, fn);
  }

  /**
   * Runs fn holding the lock of the images' refs: a ref moves from one image to another, so a
   * change of refs reads and writes several templates. Taken alone, or after a digest lock.
   */
  withRefsLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.withLock('refs', 'the image refs', fn);
  }

  private async withLock<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    const dir = join(this.locks, name);
    let lock: Lock | undefined;
    while (!lock) {
      mkdirSync(dir, { recursive: true });
      lock = await lockDirectory(dir, { what, timeoutMs: LOCK_TIMEOUT_MS });
    }
    try {
      return await fn();
    } finally {
      // Removed while held, then released: a waiter on the old directory sees it gone and retries.
      try {
        rmdirSync(dir);
      } catch {
        // another waiter already made it again: it is theirs now
      }
      lock.release();
    }
  }
}
