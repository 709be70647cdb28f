// TEMPORARY stand-in for the images layer's API while it is built on its own branch; replaced by
// the real module at merge. Never released.
import type { StorageConfig } from '../core/config.js';
import { UnsupportedError } from '../core/errors.js';

export interface ImageConfigSummary {
  Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; User?: string; WorkingDir?: string;
  StopSignal?: string; Labels?: Record<string, string>; Volumes?: Record<string, object>;
  ExposedPorts?: Record<string, object>;
}
export interface ImageRecord {
  digest: string; refs: string[]; template: string; size: number; created: string | undefined; imported: string;
  lastUsed: string | undefined; platform: { os: string; architecture: string; variant?: string };
  config: ImageConfigSummary; parked: boolean; containers: string[];
}
export interface ContainerVolume { path: string; volume: string; image: ImageRecord; hit: boolean }
export interface ImageCache {
  createContainerVolume(refOrPath: string, containerId: string, options?: { platform?: string }): Promise<ContainerVolume>;
  destroyContainerVolume(containerId: string): Promise<void>;
  containerVolumeName(containerId: string): string;
}
export async function openImageCache(_options: { storage: StorageConfig; stateDir?: string }): Promise<ImageCache> {
  throw new UnsupportedError('images are not built yet');
}
