// The image cache's public types (the API other layers build on; see docs/images.md).
export interface ImageConfigSummary {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  StopSignal?: string;
  Labels?: Record<string, string>;
  Volumes?: Record<string, object>;
  ExposedPorts?: Record<string, object>;
}

/** An image as its template's own properties describe it. */
export interface ImageInfo {
  /** The manifest digest, "sha256:<hex>". */
  digest: string;
  /** Names given at import (--name); may be empty. */
  refs: string[];
  /** The storage volume name of its template. */
  template: string;
  /** Bytes of the unpacked rootfs (the files' apparent sizes, hard links once). */
  size: number;
  /** The image config's `created`. */
  created: string | undefined;
  /** RFC 3339. */
  imported: string;
  /** RFC 3339; updated when a container volume is made from it. */
  lastUsed: string | undefined;
  platform: { os: string; architecture: string; variant?: string };
  config: ImageConfigSummary;
  /** Removed with --force while containers still used it: destroyed with its last container volume. */
  parked: boolean;
}

export interface ImageRecord extends ImageInfo {
  /** Ids of the container volumes cloned from it (read from storage: a listing of every volume). */
  containers: string[];
}

export interface ContainerVolume {
  path: string;
  volume: string;
  image: ImageInfo;
  hit: boolean;
}

/** An image's sealed template, for a reader that keeps no volume of its own (the pve backend). */
export interface TemplateRootfs {
  /** Where the template's files are: read-only, never a container's rootfs. */
  path: string;
  image: ImageInfo;
  hit: boolean;
}

export interface ImportOptions {
  name?: string;
  platform?: string;
  onProgress?: (p: { done: number; total: number; what: string }) => void;
}

export interface ImageCache {
  /** Imports an OCI layout (directory or tar); an image already cached is a hit, refs merged. */
  import(source: string, options?: ImportOptions): Promise<ImageRecord & { hit: boolean }>;
  list(): Promise<ImageRecord[]>;
  /** A ref, a full digest, or a unique digest prefix (≥ 12 hex); NotFoundError (exit 4) otherwise. */
  resolve(ref: string): Promise<ImageRecord>;
  /** In use without force → ImageInUseError (BERTH_ERR_STATE); with force the image is parked. */
  remove(ref: string, options?: { force?: boolean }): Promise<{ digest: string; parked: boolean }>;
  /** Removes unused images: all, those unused for `olderThan` ms, and/or least recently used ones until the total is ≤ `maxSize` bytes. */
  prune(options?: { olderThan?: number; maxSize?: number }): Promise<ImageRecord[]>;
  /**
   * refOrPath: a cached ref/digest, or a path to an OCI layout dir/tar (imported on a miss). The
   * caller holds the id's create lock and has no live container of that id: a volume the id
   * already has is what an interrupted create left, and is replaced.
   */
  createContainerVolume(refOrPath: string, containerId: string, options?: { platform?: string }): Promise<ContainerVolume>;
  /**
   * Like createContainerVolume, but makes no volume: the image's template itself (read-only),
   * for a backend that keeps the container's root filesystem itself (Proxmox) and only reads it
   * as the source of its own template. The image's containers list does not count such readers.
   */
  templateRootfs(refOrPath: string, options?: { platform?: string }): Promise<TemplateRootfs>;
  /** Idempotent; destroys the container's volume (and its snapshots) and a parked template whose last clone it was. */
  destroyContainerVolume(containerId: string): Promise<void>;
  /** The container volume's name for an id (ids with characters storage refuses are mapped). */
  containerVolumeName(containerId: string): string;
}
