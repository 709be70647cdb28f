// `berth image pull`: resolves a reference on its registry to one image manifest (an index or
// manifest list is narrowed to the platform), brings the config and the layers that the blob
// store does not have yet (each verified while it streams), lays them out as an OCI layout in a
// staging directory under STATE_DIR/images/tmp, and hands that to the cache's own import, so a
// pulled image is unpacked, verified and cached exactly as an imported one.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistriesConfig } from '../../core/config.js';
import { ImageError, InvalidArgumentError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { parseDigest } from '../digest.js';
import { parsePlatform } from '../platform.js';
import type { ImageCache, PullOptions, PullResult } from '../types.js';
import { clientFor } from './client-for.js';
import { BlobStore } from './blob-store.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import { manifestKind, parseJsonObject, parseManifest, selectPlatform, type RemoteDescriptor } from './manifest-select.js';
import { formatReference, manifestReference, parseReference, type ImageReference } from './reference.js';

/** Layers fetched at once unless [registries] parallel_layers says otherwise. */
const PARALLEL_LAYERS = 3;

function digestOf(body: Buffer, algorithm: 'sha256' | 'sha512'): string {
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

/** The body must hash to `expected` (a digest ref or an index entry): a registry is not trusted. */
function checkManifest(body: Buffer, expected: string | undefined, what: string): string {
  const algorithm = expected ? parseDigest(expected, what).algorithm : 'sha256';
  const actual = digestOf(body, algorithm);
  if (expected && actual !== expected) throw new ImageError(`${what}: digest mismatch: the registry's content hashes to ${actual}, not ${expected}`);
  return actual;
}

export async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.min(size, queue.length) }, worker));
}

/**
 * The top manifest from the first endpoint that serves it: the mirrors configured for the
 * registry, in order, then the registry itself. A mirror's failure (down, 404, auth) is logged
 * and the next one tried; the registry's own failure is the error.
 */
async function firstServing(ref: ImageReference, options: PullOptions, registries: RegistriesConfig): Promise<{ client: RegistryClient; endpoint: string; top: FetchedManifest }> {
  const endpoints = [...(registries.mirrors?.[ref.registry] ?? []).filter((m) => m !== ref.registry), ref.registry];
  for (const endpoint of endpoints) {
    const client = clientFor(ref, endpoint, options, registries);
    try {
      return { client, endpoint, top: await client.getManifest(manifestReference(ref)) };
    } catch (err) {
      await client.close();
      if (endpoint === ref.registry) throw err;
      await log('warn', `mirror ${endpoint} of ${ref.registry} did not serve ${formatReference(ref)} (${(err as Error).message}); trying the next`, { op: 'image-pull' });
    }
  }
  throw new Error('unreachable: the registry itself is the last endpoint');
}

export async function pullImage(cache: ImageCache, imagesDir: string, text: string, options: PullOptions = {}): Promise<PullResult> {
  const registries = options.registries ?? {};
  const ref = parseReference(text, registries.default);
  const want = parsePlatform(options.platform);
  const name = formatReference(ref);
  const store = new BlobStore(imagesDir);
  const { client, endpoint, top } = await firstServing(ref, options, registries);
  try {
    const topDigest = checkManifest(top.body, ref.digest, `manifest ${name}`);
    if (!ref.digest && top.headerDigest && top.headerDigest.startsWith('sha256:') && top.headerDigest !== topDigest) {
      throw new ImageError(`manifest ${name}: the registry says its digest is ${top.headerDigest}, the content hashes to ${topDigest}`);
    }
    if (!ref.digest && (options.digestOnly || registries.digest_only)) {
      throw new InvalidArgumentError(`${options.digestOnly ? '--digest-only' : '[registries] digest_only'} refuses the tag ${name}: pull by digest: ${ref.registry}/${ref.repository}@${topDigest}`);
    }
    let doc = parseJsonObject(top.body, `manifest ${name}`);
    let manifest: RemoteDescriptor = { mediaType: top.mediaType, digest: topDigest, size: top.body.length };
    let body = top.body;
    if (manifestKind(doc, top.mediaType) === 'index') {
      const chosen = selectPlatform(doc, want, `the image index of ${name}`);
      const fetched = await client.getManifest(chosen.digest);
      checkManifest(fetched.body, chosen.digest, `manifest ${chosen.digest}`);
      if (fetched.body.length !== chosen.size) throw new ImageError(`manifest ${chosen.digest}: ${fetched.body.length} bytes, the index says ${chosen.size}`);
      doc = parseJsonObject(fetched.body, `manifest ${chosen.digest}`);
      if (manifestKind(doc, fetched.mediaType) !== 'manifest') throw new ImageError(`the index entry ${chosen.digest} of ${name} is not an image manifest`);
      manifest = chosen;
      body = fetched.body;
    }
    const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : manifest.mediaType;
    const image = parseManifest(doc, `manifest ${manifest.digest}`);
    // Kept with the blobs (verified above), so that `image push` can send the image as it came.
    if (!store.has(manifest.digest, body.length)) store.putBytes(manifest.digest, body);
    await log('debug', `${name} resolves to ${manifest.digest} (${image.layers.length} layers)${endpoint !== ref.registry ? ` via mirror ${endpoint}` : ''}`, { op: 'image-pull' });
    const source = { ref: name, digest: topDigest, pulled: new Date().toISOString(), ...(endpoint !== ref.registry ? { mirror: endpoint } : {}) };

    // Already cached: only the name is new; no blob is fetched.
    const cached = (await cache.list('image-pull')).find((r) => r.digest === manifest.digest && !r.parked);
    if (cached) {
      await cache.recordSource(manifest.digest, source);
      const named = await cache.addName(manifest.digest, name);
      return { ...named, hit: true, name, fetched: 0, layers: image.layers.length };
    }

    const staging = join(store.tmp, `pull-${randomBytes(6).toString('hex')}`);
    try {
      const blobPath = (d: string): string => {
        const p = parseDigest(d, 'blob');
        return join(staging, 'blobs', p.algorithm, p.hex);
      };
      mkdirSync(join(staging, 'blobs'), { recursive: true });
      writeFileSync(join(staging, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      mkdirSync(join(blobPath(manifest.digest), '..'), { recursive: true });
      writeFileSync(blobPath(manifest.digest), body);
      let fetched = 0;
      const total = image.layers.reduce((n, l) => n + l.size, 0);
      let done = 0;
      const bring = async (d: RemoteDescriptor, what: string): Promise<void> => {
        if (!store.has(d.digest, d.size)) {
          await store.put(d.digest, d.size, (offset) => client.getBlob(d.digest, offset), `${what} ${d.digest} from ${name}`);
          if (what === 'layer') fetched++;
        }
        store.placeAt(d.digest, blobPath(d.digest));
        done += what === 'layer' ? d.size : 0;
        options.onProgress?.({ done, total, what: `pulling ${name}` });
      };
      await bring(image.config, 'image config');
      await inBatches(image.layers, registries.parallel_layers ?? PARALLEL_LAYERS, (l) => bring(l, 'layer'));
      const entry = { mediaType, digest: manifest.digest, size: manifest.size, ...(manifest.platform ? { platform: manifest.platform } : {}) };
      writeFileSync(join(staging, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [entry] }));
      await log('debug', `${name}: ${fetched} of ${image.layers.length} layers fetched, the rest were stored`, { op: 'image-pull' });
      const imported = await cache.import(staging, { name, platform: options.platform, onProgress: options.onProgress });
      await cache.recordSource(imported.digest, source);
      const record = (await cache.list('image-pull')).find((r) => r.digest === imported.digest) ?? imported;
      return { ...record, hit: imported.hit, name, fetched, layers: image.layers.length };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  } finally {
    await client.close();
  }
}
