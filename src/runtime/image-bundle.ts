// A bundle for a container made from an image: the container's volume (a clone of the image's
// template, or a copy) is its rootfs, and config.json is generated from the image config under
// the user's overrides. The bundle lives in the container's own state directory, so removing
// the container removes it; the volume's undo is registered before it exists.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { resolveInRoot } from '../core/path-in-root.js';
import type { Revert } from '../core/revert.js';
import { loadBundle, type Bundle } from './bundle.js';
import type { ContainerImage } from './container-store.js';
import { specFromImage, type ImageOverrides } from './image-spec.js';
import { resolveImageUser } from './image-user.js';
import type { Runtime } from './runtime.js';

export interface ImageRequest {
  /** A cached image's ref or digest, or the path of an OCI layout (directory or tar). */
  ref: string;
  platform: string | undefined;
  overrides: ImageOverrides;
}

export async function makeImageBundle(runtime: Runtime, id: string, request: ImageRequest, revert: Revert): Promise<{ bundle: Bundle; image: ContainerImage }> {
  const images = await runtime.images();
  // We hold the id's create lock and no live record exists: any volume of this id is what an
  // interrupted create left behind.
  await images.destroyContainerVolume(id);
  revert.add('container volume', () => images.destroyContainerVolume(id));
  const volume = await images.createContainerVolume(request.ref, id, { platform: request.platform });
  const config = volume.image.config;

  const user = resolveImageUser(volume.path, request.overrides.user ?? config.User);
  // Declared volumes become directories, as Proxmox and Docker make them (data stays in the clone).
  for (const path of Object.keys(config.Volumes ?? {})) mkdirSync(resolveInRoot(volume.path, path), { recursive: true });

  const ref = volume.image.refs.includes(request.ref) ? request.ref : volume.image.refs[0];
  const spec = specFromImage({ id, rootfs: volume.path, digest: volume.image.digest, ref, image: config, overrides: request.overrides, user });
  const dir = join(runtime.store.dir(id), 'bundle');
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(spec, null, 2) + '\n', 0o644);
  return {
    bundle: loadBundle(dir),
    image: { ref, digest: volume.image.digest, volume: volume.volume },
  };
}
