// What a registry's manifest answer is: an index / manifest list (then the entry for the wanted
// platform, with the platform helper import uses) or an image manifest (config + layers).
import { ImageError } from '../../core/errors.js';
import { parseDigest } from '../digest.js';
import { isIndex, isManifest } from '../media-types.js';
import { formatPlatform, platformMatches, type Platform } from '../platform.js';

export interface RemoteDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Partial<Platform>;
}

export interface RemoteManifest {
  config: RemoteDescriptor;
  layers: RemoteDescriptor[];
}

export function parseJsonObject(body: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ImageError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ImageError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function descriptor(v: unknown, what: string): RemoteDescriptor {
  const d = v as Partial<RemoteDescriptor> | null;
  if (!d || typeof d !== 'object' || typeof d.mediaType !== 'string' || !Number.isSafeInteger(d.size) || (d.size as number) < 0) {
    throw new ImageError(`${what} is not a valid descriptor (needs mediaType, digest and size)`);
  }
  parseDigest(d.digest, what);
  return d as RemoteDescriptor;
}

/** The media type of a fetched manifest: its own field, else the Content-Type the registry sent. */
export function manifestKind(doc: Record<string, unknown>, contentType: string): 'index' | 'manifest' {
  const mt = typeof doc.mediaType === 'string' ? doc.mediaType : contentType;
  if (isIndex(mt) || (mt === '' && Array.isArray(doc.manifests))) return 'index';
  if (isManifest(mt) || (mt === '' && Array.isArray(doc.layers))) return 'manifest';
  throw new ImageError(`the registry sent a manifest of type "${mt}", which berth does not read (OCI index/manifest, Docker v2 schema 2 manifest/list)`);
}

/** The index entry for `want`; none → an error listing the platforms the index has. */
export function selectPlatform(index: Record<string, unknown>, want: Platform, what: string): RemoteDescriptor {
  if (!Array.isArray(index.manifests)) throw new ImageError(`${what} has no "manifests" list`);
  const entries = index.manifests.map((m, i) => descriptor(m, `${what} manifests[${i}]`));
  const images = entries.filter((d) => isManifest(d.mediaType));
  const matching = [...new Map(images.filter((d) => platformMatches(d.platform, want)).map((d) => [d.digest, d])).values()];
  const has = images.map((d) => (d.platform ? formatPlatform(d.platform as Platform) : 'no platform'));
  if (matching.length === 0) {
    throw new ImageError(`${what} has no image for ${formatPlatform(want)} (it has: ${has.length ? [...new Set(has)].join(', ') : 'none'}); choose one with --platform`);
  }
  if (matching.length > 1) {
    throw new ImageError(`${what} has ${matching.length} images for ${formatPlatform(want)} (${matching.map((d) => formatPlatform(d.platform as Platform)).join(', ')}); name the variant with --platform OS/ARCH/VARIANT`);
  }
  return matching[0]!;
}

export function parseManifest(doc: Record<string, unknown>, what: string): RemoteManifest {
  if (doc.schemaVersion !== 2) throw new ImageError(`${what}: schemaVersion ${JSON.stringify(doc.schemaVersion)} is not 2`);
  if (!Array.isArray(doc.layers)) throw new ImageError(`${what} has no "layers" list`);
  return { config: descriptor(doc.config, `${what} config`), layers: doc.layers.map((l, i) => descriptor(l, `${what} layers[${i}]`)) };
}
