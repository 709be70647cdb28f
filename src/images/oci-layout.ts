// Reading an OCI image layout — a directory, or a tar of one (`skopeo copy … oci:DIR` /
// `oci-archive:FILE`, `umoci`): oci-layout, index.json (nested indexes followed), the manifest
// for a platform, its config and layer descriptors. Every blob read is verified (digest and
// size) while it streams; nothing is trusted.
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { errnoCode, ImageError, InvalidArgumentError } from '../core/errors.js';
import { DigestVerifier, parseDigest } from './digest.js';
import { checkConfigType, isIndex, isManifest, layerCompression, type Compression } from './media-types.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';
import { indexTar, type TarMember } from './tar-index.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Partial<Platform>;
  annotations?: Record<string, string>;
}

export interface LayerDescriptor extends Descriptor {
  compression: Compression;
  /** The uncompressed tar's digest, from the config's rootfs.diff_ids. */
  diffId: string;
}

/** The image config (image-spec), the parts berth reads. */
export interface ImageConfigBlob {
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs?: { type?: string; diff_ids?: string[] };
}

export interface ResolvedImage {
  source: string;
  manifest: Descriptor;
  config: ImageConfigBlob;
  configDigest: string;
  layers: LayerDescriptor[];
  platform: Platform;
  /** A layer's bytes, verified against its descriptor while they stream. */
  openBlob(d: Descriptor): Readable;
}

/** JSON blobs (indexes, manifests, configs) above this size are refused rather than buffered. */
const MAX_JSON_BLOB = 4 * 1024 * 1024;
/** Blobs are read in 1 MiB chunks (Node's default is 64 KiB): fewer callbacks per layer. */
const READ_CHUNK = 1024 * 1024;

interface BlobSource {
  describe: string;
  /** The raw bytes of a layout file (index.json, oci-layout), or undefined if it is missing. */
  file(name: string): Buffer | undefined;
  /** Size of a blob as stored, or undefined when it is missing. */
  blobSize(digest: string): number | undefined;
  stream(digest: string): Readable;
}

function blobPath(digest: string): string {
  const d = parseDigest(digest, 'blob');
  return `blobs/${d.algorithm}/${d.hex}`;
}

function dirSource(dir: string): BlobSource {
  return {
    describe: `OCI layout ${dir}`,
    file(name) {
      try {
        return readFileSync(join(dir, name));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw new ImageError(`cannot read ${join(dir, name)}: ${(err as Error).message}`, { cause: err });
      }
    },
    blobSize(digest) {
      try {
        const st = statSync(join(dir, blobPath(digest)));
        return st.isFile() ? st.size : undefined;
      } catch {
        return undefined;
      }
    },
    stream: (digest) => createReadStream(join(dir, blobPath(digest)), { highWaterMark: READ_CHUNK }),
  };
}

function tarSource(file: string): BlobSource {
  let members: Map<string, TarMember>;
  try {
    members = indexTar(file);
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(`${file} is not an OCI layout archive: ${err.message}`, { cause: err });
    throw err;
  }
  return {
    describe: `OCI layout archive ${file}`,
    file(name) {
      const m = members.get(name);
      if (!m) return undefined;
      if (m.size > MAX_JSON_BLOB) throw new ImageError(`${name} in ${file} is ${m.size} bytes: too large`);
      return readRange(file, m);
    },
    blobSize: (digest) => members.get(blobPath(digest))?.size,
    stream(digest) {
      const m = members.get(blobPath(digest));
      if (!m) throw new ImageError(`blob ${digest} is missing from ${file}`);
      return m.size === 0 ? Readable.from([]) : createReadStream(file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: READ_CHUNK });
    },
  };
}

function readRange(file: string, m: TarMember): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(m.size);
    readSync(fd, buf, 0, m.size, m.offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function openSource(path: string): BlobSource {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new InvalidArgumentError(`image source ${path} does not exist or cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const source = st.isDirectory() ? dirSource(path) : st.isFile() ? tarSource(path) : undefined;
  if (!source) throw new InvalidArgumentError(`image source ${path} is neither a directory nor a tar file`);
  const marker = source.file('oci-layout');
  let version: unknown;
  try {
    version = marker && (JSON.parse(marker.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string') {
    throw new ImageError(`${path} is not an OCI image layout: ${marker ? 'its oci-layout file has no imageLayoutVersion' : 'no oci-layout file'} (make one with "skopeo copy … oci:DIR" or "oci-archive:FILE")`);
  }
  if (!version.startsWith('1.')) throw new ImageError(`${path}: unsupported OCI image layout version ${version}`);
  return source;
}

function parseJson(data: Buffer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(data.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (err) {
    throw new ImageError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  throw new ImageError(`${what} is not a JSON object`);
}

function descriptor(v: unknown, what: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object' || typeof d.mediaType !== 'string' || !Number.isSafeInteger(d.size) || (d.size as number) < 0) {
    throw new ImageError(`${what} is not a valid descriptor (needs mediaType, digest and size): ${JSON.stringify(v)?.slice(0, 200)}`);
  }
  parseDigest(d.digest, what);
  return d as Descriptor;
}

/** Checks a blob is there with its declared size, before anything is written. */
function checkPresent(source: BlobSource, d: Descriptor, what: string): void {
  const size = source.blobSize(d.digest);
  if (size === undefined) throw new ImageError(`${what} ${d.digest} is missing from ${source.describe}`);
  if (size !== d.size) throw new ImageError(`${what} ${d.digest} in ${source.describe} is ${size} bytes, its descriptor says ${d.size}`);
}

function verified(source: BlobSource, d: Descriptor, what: string): Readable {
  checkPresent(source, d, what);
  const raw = source.stream(d.digest);
  const check = new DigestVerifier(d.digest, d.size, `${what} ${d.digest} in ${source.describe}`);
  raw.on('error', (err) => check.destroy(err));
  return raw.pipe(check);
}

async function readJsonBlob(source: BlobSource, d: Descriptor, what: string): Promise<Record<string, unknown>> {
  if (d.size > MAX_JSON_BLOB) throw new ImageError(`${what} ${d.digest} is ${d.size} bytes: too large for a JSON document`);
  return parseJson(await buffer(verified(source, d, what)), `${what} ${d.digest}`);
}

/** Every manifest descriptor reachable from index.json, nested indexes followed (depth-limited). */
async function manifests(source: BlobSource, index: Record<string, unknown>, where: string, depth: number): Promise<Descriptor[]> {
  if (!Array.isArray(index.manifests)) throw new ImageError(`${where} has no "manifests" list`);
  const out: Descriptor[] = [];
  for (const [i, raw] of index.manifests.entries()) {
    const d = descriptor(raw, `${where} manifests[${i}]`);
    if (isIndex(d.mediaType)) {
      if (depth >= 4) throw new ImageError(`${where}: indexes nested more than 4 deep`);
      // A tag on the nested index names every manifest in it.
      const tag = d.annotations?.['org.opencontainers.image.ref.name'];
      for (const m of await manifests(source, await readJsonBlob(source, d, 'index'), `index ${d.digest}`, depth + 1)) {
        out.push(tag && !m.annotations?.['org.opencontainers.image.ref.name'] ? { ...m, annotations: { ...m.annotations, 'org.opencontainers.image.ref.name': tag } } : m);
      }
    } else if (isManifest(d.mediaType)) {
      out.push(d);
    } else {
      throw new ImageError(`${where} manifests[${i}] has an unknown media type "${d.mediaType}"`);
    }
  }
  return out;
}

function summaryOf(d: Descriptor): string {
  const ref = d.annotations?.['org.opencontainers.image.ref.name'];
  return `${d.digest.slice(0, 19)}…${d.platform ? ` (${formatPlatform(d.platform as Platform)})` : ''}${ref ? ` "${ref}"` : ''}`;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * `PATH` or `PATH:TAG` (as skopeo's `oci:` and umoci's `--image` write them): the tag picks the
 * index entries annotated with that org.opencontainers.image.ref.name. A path that exists as
 * given is never split.
 */
export function splitSource(source: string): { path: string; tag: string | undefined } {
  const colon = source.lastIndexOf(':');
  if (colon <= 0 || existsSync(source)) return { path: source, tag: undefined };
  const tag = source.slice(colon + 1);
  if (tag === '' || tag.includes('/')) return { path: source, tag: undefined };
  return { path: source.slice(0, colon), tag };
}

/** Opens the layout at `source` (`PATH` or `PATH:TAG`) and resolves the image for `platform`. */
export async function resolveImage(sourceName: string, platform: Platform): Promise<ResolvedImage> {
  const { path, tag } = splitSource(sourceName);
  const source = openSource(path);
  const indexData = source.file('index.json');
  if (!indexData) throw new ImageError(`${path} is not an OCI image layout: no index.json`);
  let all = await manifests(source, parseJson(indexData, `${path}/index.json`), `${path}/index.json`, 0);
  if (all.length === 0) throw new ImageError(`${path}/index.json lists no image`);
  if (tag !== undefined) {
    const tagged = all.filter((d) => d.annotations?.[REF_NAME] === tag);
    if (tagged.length === 0) {
      const tags = [...new Set(all.map((d) => d.annotations?.[REF_NAME]).filter(Boolean))];
      throw new ImageError(`${path} has no image tagged "${tag}" (tags: ${tags.length ? tags.join(', ') : 'none'})`);
    }
    all = tagged;
  }
  // Descriptors without a platform (single-image layouts) are decided by their config below.
  const matching = all.filter((d) => (d.platform ? platformMatches(d.platform, platform) : true));
  const distinct = [...new Map(matching.map((d) => [d.digest, d])).values()];
  if (distinct.length === 0) {
    throw new ImageError(`${path} has no image for ${formatPlatform(platform)} (it has: ${all.map(summaryOf).join(', ')}); choose one with --platform`);
  }
  if (distinct.length > 1) {
    throw new ImageError(`${path} holds ${distinct.length} images for ${formatPlatform(platform)}: ${distinct.map(summaryOf).join(', ')}; name one with PATH:TAG`);
  }
  const manifestDesc = distinct[0]!;
  const manifest = await readJsonBlob(source, manifestDesc, 'manifest');
  if (manifest.schemaVersion !== 2) throw new ImageError(`manifest ${manifestDesc.digest}: schemaVersion ${JSON.stringify(manifest.schemaVersion)} is not 2`);
  if (manifest.mediaType !== undefined && manifest.mediaType !== manifestDesc.mediaType) {
    throw new ImageError(`manifest ${manifestDesc.digest} says mediaType "${String(manifest.mediaType)}", its descriptor "${manifestDesc.mediaType}"`);
  }
  const configDesc = descriptor(manifest.config, `manifest ${manifestDesc.digest} config`);
  checkConfigType(configDesc.mediaType);
  if (!Array.isArray(manifest.layers)) throw new ImageError(`manifest ${manifestDesc.digest} has no "layers" list`);
  const layerDescs = manifest.layers.map((l, i) => descriptor(l, `manifest ${manifestDesc.digest} layers[${i}]`));
  const compressions = layerDescs.map((l) => layerCompression(l.mediaType, l.digest));
  for (const l of layerDescs) checkPresent(source, l, 'layer');

  const config = (await readJsonBlob(source, configDesc, 'image config')) as ImageConfigBlob;
  const have: Platform = { os: String(config.os), architecture: String(config.architecture), ...(config.variant ? { variant: config.variant } : {}) };
  if (!platformMatches(have, platform)) {
    throw new ImageError(`${path}: the image is for ${formatPlatform(have)}, not ${formatPlatform(platform)}; choose it with --platform ${formatPlatform(have)}`);
  }
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== layerDescs.length) {
    throw new ImageError(`image config ${configDesc.digest}: rootfs.diff_ids has ${Array.isArray(diffIds) ? diffIds.length : 'no'} entries for ${layerDescs.length} layers`);
  }
  diffIds.forEach((d, i) => parseDigest(d, `image config rootfs.diff_ids[${i}]`));
  return {
    source: path,
    manifest: manifestDesc,
    config,
    configDigest: configDesc.digest,
    layers: layerDescs.map((l, i) => ({ ...l, compression: compressions[i]!, diffId: diffIds[i]! })),
    platform: have,
    openBlob: (d) => verified(source, d, 'layer'),
  };
}

