// The media types berth reads: OCI image-spec and their Docker v2 schema 2 equivalents. Anything
// else is refused by name, never guessed from the content.
import { ImageError } from '../core/errors.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export type Compression = 'none' | 'gzip' | 'zstd';

const LAYERS: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

export function isManifest(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

export function checkConfigType(mediaType: string): void {
  if (mediaType !== MEDIA_TYPES.ociConfig && mediaType !== MEDIA_TYPES.dockerConfig) {
    throw new ImageError(`unknown image config media type "${mediaType}" (known: ${MEDIA_TYPES.ociConfig}, ${MEDIA_TYPES.dockerConfig})`);
  }
}

/** How a layer blob is compressed; an unknown layer media type is an ImageError. */
export function layerCompression(mediaType: string, digest: string): Compression {
  const c = Object.hasOwn(LAYERS, mediaType) ? LAYERS[mediaType] : undefined;
  if (c === undefined) throw new ImageError(`layer ${digest} has an unknown media type "${mediaType}" (known: ${Object.keys(LAYERS).join(', ')})`);
  return c;
}
