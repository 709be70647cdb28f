// A bundle for a container made from an image: the container's volume (a clone of the image's
// template, or a copy) is its rootfs, and config.json is generated from the image config under
// the user's overrides. The bundle lives in the container's own state directory, so removing
// the container removes it; the volume's undo is registered before it exists. A backend that
// keeps the rootfs itself (ownsRootfs: Proxmox) gets no volume: its bundle's rootfs is the image's
// read-only template, which that backend only reads (to make its own template, once per digest).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { resolveInRoot } from '../core/path-in-root.js';
import type { Revert } from '../core/revert.js';
import { crashPoint } from '../core/crash-point.js';
import { loadBundle, type Bundle } from './bundle.js';
import type { ImageInfo, StorageLocation } from '../images/types.js';
import type { ContainerImage } from './container-store.js';
import { specFromImage, type ImageOverrides } from './image-spec.js';
import { resolveImageUser } from './image-user.js';
import { refForCreate, type PullPolicy } from './image-pull-policy.js';
import type { Runtime } from './runtime.js';

export interface ImageRequest {
  /** A cached image's ref or digest, or the path of an OCI layout (directory or tar). */
  ref: string;
  platform: string | undefined;
  /** --pull; undefined: missing for a REF that names its registry, never otherwise. */
  pull?: PullPolicy;
  overrides: ImageOverrides;
}

export interface ImageBundle {
  bundle: Bundle;
  image: ContainerImage;
  /** The image's declared volumes; made as directories in the volume unless the backend owns the rootfs. */
  volumes: string[];
}

export async function makeImageBundle(runtime: Runtime, id: string, request: ImageRequest, revert: Revert, backend: { ownsRootfs: boolean }): Promise<ImageBundle> {
  const images = await runtime.images();
  // Pulled (or found cached) first: the volume is made from the name the cache has it under.
  const wanted = await refForCreate(images, request.ref, request.pull, request.platform, (await runtime.config()).registries?.default);
  let source: { path: string; image: ImageInfo; volume: string | undefined };
  // We hold the id's create lock and no live record exists: any volume of this id is what an
  // interrupted create left behind (createContainerVolume replaces one itself).
  const rootId = runtime.rootId();
  let storage: StorageLocation | undefined;
  if (backend.ownsRootfs) {
    await images.destroyContainerVolume(id, { rootId });
    const t = await images.templateRootfs(wanted, { platform: request.platform });
    source = { path: t.path, image: t.image, volume: undefined };
  } else {
    revert.add('container volume', async () => void (await images.destroyContainerVolume(id, { rootId })));
    const v = await images.createContainerVolume(wanted, id, { platform: request.platform, rootId });
    crashPoint('create:volume'); // made, not yet named by a record: see orphan-volumes.ts
    source = { path: v.path, image: v.image, volume: v.volume };
    storage = v.storage;
  }
  const config = source.image.config;
  const volumes = Object.keys(config.Volumes ?? {});

  const user = resolveImageUser(source.path, request.overrides.user ?? config.User);
  // Declared volumes become directories, as Proxmox and Docker make them (data stays in the clone);
  // the template is read-only: a backend that owns the rootfs makes them in its own.
  if (source.volume !== undefined) for (const path of volumes) mkdirSync(resolveInRoot(source.path, path), { recursive: true });

  const ref = source.image.refs.includes(wanted) ? wanted : source.image.refs[0];
  const spec = specFromImage({ id, rootfs: source.path, digest: source.image.digest, ref, image: config, overrides: request.overrides, user });
  const dir = join(runtime.store.dir(id), 'bundle');
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(spec, null, 2) + '\n', 0o644);
  return {
    bundle: loadBundle(dir),
    // Where the volume is, so that delete needs no config (record version 2).
    image: { ref, digest: source.image.digest, ...(source.volume !== undefined ? { volume: source.volume, storage, rootId } : {}) },
    volumes,
  };
}
