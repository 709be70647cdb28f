// The image cache's public types (the API other layers build on; see docs/images.md).
import type { RegistriesConfig } from '../core/config.js';
import type { StorageLocation } from '../storage/driver.js';
import type { PendingCacheRepair } from './cache-repair.js';

export type { PendingCacheRepair };

export type { StorageLocation };
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
  /** Where the last pull of it came from; undefined for an image only ever imported from a layout. */
  source: ImageSource | undefined;
}

/** A pull's provenance, recorded on the template. */
export interface ImageSource {
  /** The reference pulled, normalized: registry/repo:tag or registry/repo@digest. */
  ref: string;
  /** What the reference resolved to on the registry (the index digest for a multi-platform image). */
  digest: string;
  /** RFC 3339. */
  pulled: string;
  /** The mirror that served it, when not the registry itself. */
  mirror?: string;
}

export interface ImageRecord extends ImageInfo {
  /**
   * Ids of the container volumes cloned from it (read from storage: a listing of every volume,
   * so the containers of every state root that uses this storage count).
   */
  containers: string[];
  /** The same volumes, with whose they are and whether their files are there. */
  containerVolumes: ContainerVolumeInfo[];
}

export interface ContainerVolumeInfo {
  /** The container id (berth:container-id). */
  id: string;
  /** The state root it belongs to (berth:root-id); absent on volumes made by 0.8.0. */
  rootId: string | undefined;
  volume: string;
  /** false: unmounted (zfs) or its files removed (dir); reported, never fatal. */
  mounted: boolean;
}

export interface ContainerVolume {
  path: string;
  volume: string;
  storage: StorageLocation;
  image: ImageInfo;
  hit: boolean;
}

/** What destroyContainerVolume did: `not-ours` is a volume of that name owned by another root or id. */
export type VolumeRemoval = 'destroyed' | 'missing' | 'not-ours';

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

export interface PullOptions {
  platform?: string;
  /** USER:PASSWORD */
  creds?: string;
  tlsVerify?: boolean;
  /** Refuse a tag (exit 3, naming the digest it resolves to). */
  digestOnly?: boolean;
  /** Default: the cache's own ([registries] of the config). */
  registries?: RegistriesConfig;
  onProgress?: (p: { done: number; total: number; what: string }) => void;
}

export interface PushOptions {
  /** USER:PASSWORD */
  creds?: string;
  tlsVerify?: boolean;
  /** Default: the cache's own ([registries] of the config). */
  registries?: RegistriesConfig;
}

export interface PushResult {
  /** registry/repo:tag (or @digest) pushed to. */
  dest: string;
  digest: string;
  /** Blobs sent (the rest the repository had). */
  uploaded: number;
  blobs: number;
}

export interface PullResult extends ImageRecord {
  hit: boolean;
  /** The name recorded for it: registry/repo:tag or registry/repo@digest. */
  name: string;
  /** Layers fetched from the registry (the rest were in the blob store already). */
  fetched: number;
  /** Layers the image has. */
  layers: number;
}

export interface ImageCache {
  /** Imports an OCI layout (directory or tar); an image already cached is a hit, refs merged. */
  import(source: string, options?: ImportOptions): Promise<ImageRecord & { hit: boolean }>;
  /**
   * Pulls REF ([registry/]repo[:tag|@digest]) from its registry into the cache, through import;
   * the image gets the name registry/repo:tag (or @digest). An image already cached is a hit.
   */
  pull(ref: string, options?: PullOptions): Promise<PullResult>;
  /** Pushes a cached, pulled image (its manifest and compressed blobs as they came) to DEST. */
  push(ref: string, dest: string, options?: PushOptions): Promise<PushResult>;
  /** Records where a pulled image came from (shown by ls and inspect). */
  recordSource(digest: string, source: ImageSource): Promise<void>;
  /** Gives the cached image `digest` the name `name` (moved from any other image, as a tag moves). */
  addName(digest: string, name: string): Promise<ImageRecord>;
  /** The cached images; repairs what a killed berth left first (cache-repair.ts). */
  list(op?: string): Promise<ImageRecord[]>;
  /** What list() would repair, without repairing it (for `doctor`). */
  pendingRepairs(): Promise<PendingCacheRepair[]>;
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
  createContainerVolume(refOrPath: string, containerId: string, options?: { platform?: string; rootId?: string }): Promise<ContainerVolume>;
  /**
   * Like createContainerVolume, but makes no volume: the image's template itself (read-only),
   * for a backend that keeps the container's root filesystem itself (Proxmox) and only reads it
   * as the source of its own template. The image's containers list does not count such readers.
   */
  templateRootfs(refOrPath: string, options?: { platform?: string }): Promise<TemplateRootfs>;
  /**
   * Idempotent; destroys the container's volume (and its snapshots) and a parked template whose
   * last clone it was. `volume` is the recorded name (default: the name for id and root); the
   * volume is destroyed only if its berth:container-id and berth:root-id match (an absent
   * rootId matches only 0.8.0's volumes, which carry none).
   */
  destroyContainerVolume(containerId: string, options?: { rootId?: string; volume?: string }): Promise<VolumeRemoval>;
  /**
   * The container volume's name: `<rootId>-<id>`, or the id alone without a rootId (0.8.0's
   * scheme); ids with characters storage refuses, or too long, are mapped (prefix + hash).
   */
  containerVolumeName(containerId: string, rootId?: string): string;
  /** Every container volume in this storage (of every root): whose it is, whether it is mounted. */
  containerVolumes(): Promise<ContainerVolumeInfo[]>;
  /** The storage this cache is on. */
  storage(): StorageLocation;
}
