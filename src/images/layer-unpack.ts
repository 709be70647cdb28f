// Unpacking an image's layers into a rootfs, in order: each blob streams once through its
// digest check, the decompressor, the diff_id check and tar-stream into the RootfsWriter.
// gzip: node:zlib. zstd: the `zstd` CLI as a stream stage (Node 20's zlib has no zstd; the CLI
// is Debian's reference implementation, faster than a pure-JS decoder, and needs no native npm
// module build; see docs/images.md).
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { BerthError, ImageError } from '../core/errors.js';
import { toolStream } from '../core/exec.js';
import { DigestVerifier } from './digest.js';
import { loadLibc } from './libc.js';
import type { Compression } from './media-types.js';
import type { LayerDescriptor } from './oci-layout.js';
import { RootfsWriter, shownName } from './rootfs-writer.js';
import { formatSize } from '../core/sizes.js';
import { inSpan } from '../core/tracing.js';

export interface UnpackProgress {
  done: number;
  total: number;
  what: string;
}

function decompressor(c: Compression): Transform | undefined {
  if (c === 'gzip') return createGunzip({ chunkSize: 256 * 1024 }); // larger than the 16 KiB default: fewer, bigger writes
  if (c === 'zstd') return toolStream(['zstd', '-d', '-c', '-q']) as unknown as Transform;
  return undefined;
}

/** Counts the compressed bytes read, for progress. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

export interface UnpackOptions {
  onProgress?: (p: UnpackProgress) => void;
  /** The most bytes of file data all layers together may write; more is refused (ImageTooLargeError). */
  maxBytes?: number;
}

/** The config key that raises the cap, named in the error. */
export const MAX_IMAGE_SIZE_KEY = '[storage] max_image_size';

/** The unpacking cap was reached: raised before the bytes that would pass it are written. */
export class ImageTooLargeError extends ImageError {}

/** Bytes of file data written so far, against the cap. */
class Budget {
  used = 0;
  constructor(readonly max: number) {}

  /** Throws before `more` bytes would take the total past the cap. */
  take(more: number, layer: string, entry: string): void {
    if (this.used + more <= this.max) {
      this.used += more;
      return;
    }
    throw new ImageTooLargeError(
      `layer ${layer}: entry "${shownName(entry)}" would take the unpacked image past its cap of ${formatSize(this.max)} (${this.max} bytes); ` +
        `the import stopped and what it wrote is removed. Raise ${MAX_IMAGE_SIZE_KEY} in the berth config to import a larger image`,
    );
  }
}

/** Feeds tar-stream's entries to the writer; one entry at a time, as tar-stream hands them out. */
function extractInto(writer: RootfsWriter, layer: string, budget: Budget | undefined): Writable {
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    let sink: ReturnType<RootfsWriter['apply']>;
    let failed = false;
    // The entry stream is torn down with the extract's error: it must not surface as uncaught.
    stream.on('error', (err) => {
      if (!failed) {
        failed = true;
        next(err);
      }
    });
    try {
      // Counted by the declared size, before anything is written (tar hands out no more than it declares).
      if (budget && header.size) budget.take(header.size, layer, header.name);
      sink = writer.apply(header as Parameters<RootfsWriter['apply']>[0]);
    } catch (err) {
      failed = true;
      next(wrap(err, header.name, layer));
      return;
    }
    stream.on('data', (chunk: unknown) => {
      try {
        sink?.write(chunk as Buffer);
      } catch (err) {
        stream.destroy(wrap(err, header.name, layer));
      }
    });
    stream.on('end', () => {
      if (failed) return;
      try {
        sink?.end();
        next();
      } catch (err) {
        failed = true;
        next(wrap(err, header.name, layer));
      }
    });
  });
  return extract as unknown as Writable;
}

function wrap(err: unknown, entry: string, layer: string): Error {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENAMETOOLONG') {
    return new ImageError(`layer ${layer}: entry "${shownName(entry)}": its name is longer than the file system takes (a component above 255 bytes, or a path above 4096)`);
  }
  // A system error's message repeats the whole path: said once, shortened (a 4 KB name stays a
  // short line), and not kept as the cause, whose message would repeat it again.
  const said = e?.code && e.syscall ? `${e.message.split(', ')[0]} (${e.syscall})` : (e?.message ?? String(err));
  // Space and I/O errors keep their errno code for buildTemplate to classify.
  const out = new Error(`layer ${layer}: entry "${shownName(entry)}": ${said}`) as NodeJS.ErrnoException;
  if (e?.code) out.code = e.code;
  return out;
}

/** Unpacks the layers into `rootfs`; resolves to the apparent bytes of its files. */
export async function unpackLayers(
  layers: readonly LayerDescriptor[],
  openBlob: (l: LayerDescriptor) => Readable,
  rootfs: string,
  options: UnpackOptions = {},
): Promise<{ size: number; xattrsUnsupported: boolean }> {
  const { onProgress } = options;
  const budget = options.maxBytes === undefined ? undefined : new Budget(options.maxBytes);
  await loadLibc();
  const writer = new RootfsWriter(rootfs);
  const total = layers.reduce((n, l) => n + l.size, 0);
  let done = 0;
  for (const [i, layer] of layers.entries()) {
    writer.startLayer();
    const what = `layer ${i + 1}/${layers.length} ${layer.digest.slice(7, 19)}`;
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [openBlob(layer)];
    if (onProgress) {
      stages.push(
        counter((n) => {
          done += n;
          onProgress({ done, total, what });
        }),
      );
    }
    const unzip = decompressor(layer.compression);
    if (unzip) stages.push(unzip);
    stages.push(new DigestVerifier(layer.diffId, undefined, `layer ${layer.digest} uncompressed (diff_id)`));
    stages.push(extractInto(writer, layer.digest, budget));
    try {
      await inSpan('image.layer', { 'berth.image.layer': layer.digest, 'berth.image.layer.compression': layer.compression }, () => pipeline(stages));
    } catch (err) {
      writer.abort();
      if (err instanceof ImageTooLargeError || /^E[A-Z0-9]+$/.test((err as NodeJS.ErrnoException).code ?? '')) throw err;
      // A damaged blob shows first as a broken gzip or tar stream, before its end where the digest
      // is checked: the digest of the compressed bytes is what is wrong, so it is checked and said first.
      await assertBlobDigest(openBlob(layer), err);
      if (err instanceof BerthError) throw err;
      // zlib, zstd and tar-stream failures: the layer itself is broken.
      throw new ImageError(`layer ${layer.digest} (${layer.compression === 'none' ? 'tar' : `tar+${layer.compression}`}) cannot be unpacked: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  writer.finish();
  return { size: writer.size, xattrsUnsupported: writer.xattrsUnsupported };
}

/** Reads a verified blob to its end; its digest or size error (if any) is thrown, with `cause`. */
async function assertBlobDigest(blob: Readable, cause: unknown): Promise<void> {
  try {
    await pipeline(blob, new Writable({ write: (_c, _e, done) => done() }));
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(err.message, { cause });
    throw err;
  }
}
