// `berth image push REF DEST`: a cached image to a registry, as it was pulled. The push sends
// the image's own manifest bytes and its compressed blobs from the blob store, so the pushed
// image has the same digest as the cached one (the registry's digest is checked against it).
// An image imported from an OCI layout has no stored blobs (the layout's blobs are not kept, and
// re-compressing the template would make another image): it is refused, naming what to do.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { ImageError, InvalidArgumentError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { MEDIA_TYPES } from '../media-types.js';
import type { ImageCache, PushOptions, PushResult } from '../types.js';
import { BlobStore } from './blob-store.js';
import { clientFor } from './client-for.js';
import { parseJsonObject, parseManifest } from './manifest-select.js';
import { formatReference, parseReference } from './reference.js';
import { inBatches } from './pull.js';

export async function pushImage(cache: ImageCache, imagesDir: string, refText: string, destText: string, options: PushOptions = {}): Promise<PushResult> {
  const registries = options.registries ?? {};
  const record = await cache.resolve(refText);
  const store = new BlobStore(imagesDir);
  const what = `image ${refText} (${record.digest})`;
  const manifestPath = store.path(record.digest);
  if (!existsSync(manifestPath)) {
    throw new ImageError(
      `${what} has no stored manifest and blobs: berth keeps them for the images it pulls, not for those imported from an OCI layout; pull it from a registry first, or copy its layout with: skopeo copy oci:DIR docker://${destText}`,
    );
  }
  const body = readFileSync(manifestPath);
  const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (actual !== record.digest) throw new ImageError(`${what}: the stored manifest hashes to ${actual}; remove ${manifestPath} and pull the image again`);
  const doc = parseJsonObject(body, `manifest ${record.digest}`);
  const image = parseManifest(doc, `manifest ${record.digest}`);
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : MEDIA_TYPES.ociManifest;
  const blobs = [image.config, ...image.layers];
  const absent = blobs.filter((d) => !store.has(d.digest, d.size));
  if (absent.length) throw new ImageError(`${what}: ${absent.length} of its blobs are not in the blob store (${absent.map((d) => d.digest).join(', ')}); pull the image again to bring them back`);

  const dest = parseReference(destText, registries.default);
  if (dest.digest !== undefined && dest.digest !== record.digest) {
    throw new InvalidArgumentError(`push destination ${destText} names digest ${dest.digest}, but ${refText} is ${record.digest}; name a tag, or the image's own digest`);
  }
  const client = clientFor(dest, dest.registry, options, registries);
  try {
    let uploaded = 0;
    await inBatches(blobs, registries.parallel_layers ?? 3, async (d) => {
      if (await client.hasBlob(d.digest)) return;
      await client.uploadBlob(d.digest, d.size, () => createReadStream(store.path(d.digest)));
      uploaded++;
    });
    const pushedDigest = await client.putManifest(dest.tag ?? record.digest, mediaType, body);
    if (pushedDigest !== undefined && pushedDigest !== record.digest) {
      throw new ImageError(`registry ${dest.registry} stored the manifest of ${formatReference(dest)} as ${pushedDigest}, not ${record.digest}`);
    }
    await log('debug', `pushed ${record.digest} to ${formatReference(dest)}: ${uploaded} of ${blobs.length} blobs sent`, { op: 'image-push' });
    return { dest: formatReference(dest), digest: record.digest, uploaded, blobs: blobs.length };
  } finally {
    await client.close();
  }
}
