// What every storage driver offers, in berth's terms: image templates (filled once, then sealed
// read-only) and container volumes made from them. Capabilities are data: images and the runtime
// read them, never instanceof.
import { InvalidArgumentError } from '../core/errors.js';

export interface StorageCapabilities {
  /** A container volume is a copy-on-write clone of its template: O(1), whatever the image size. */
  clones: boolean;
  /** snapshot/rollback/destroySnapshot of a container volume work (zfs: native; dir: full copies). */
  snapshots: boolean;
  /** setQuota limits a container volume's size. */
  quotas: boolean;
}

/** Image templates live under `images/`, container volumes under `containers/`. */
export type VolumeKind = 'image' | 'container';

export interface VolumeInfo {
  kind: VolumeKind;
  name: string;
  /** Where the volume's files are (a zfs mountpoint, a directory); use it only when `mounted`. */
  path: string;
  /**
   * The files are there (zfs: the dataset is mounted; dir: its fs/ directory exists). A listing
   * reports an unmounted volume rather than failing: one broken volume must not hide the rest.
   */
  mounted: boolean;
  /** For a container volume: the template it was made from (its name), if any. */
  origin: string | undefined;
  /** For a template: sealed (snapshot taken, read-only) and ready to be cloned. */
  sealed: boolean;
  /** berth's own properties (e.g. digest, ref), keys without any driver prefix. */
  properties: Record<string, string>;
}

export interface SnapshotInfo {
  name: string;
  /** Seconds since the epoch. */
  created: number;
}

export interface VolumeUsage {
  /** Bytes the volume itself takes (a clone: only what differs from its template). */
  used: number;
  /** Bytes of data the volume's files hold (a clone: including what it shares). */
  referenced: number;
}

export interface SpaceInfo {
  /** Bytes berth's volumes take together. */
  used: number;
  /** Bytes still free for them. */
  available: number;
}

/** Which storage holds a volume: what a container record keeps, so delete needs no config. */
export interface StorageLocation {
  driver: 'zfs' | 'dir';
  /** The zfs parent dataset or the dir driver's directory (a driver's `location`). */
  location: string;
}

export interface StorageDriver {
  readonly name: 'zfs' | 'dir';
  readonly capabilities: StorageCapabilities;
  /** Where the driver keeps everything: the parent dataset or the directory, for messages. */
  readonly location: string;

  /** An empty, writable template volume; resolves to its path, for the caller to fill. */
  createTemplate(name: string, properties?: Record<string, string>): Promise<string>;
  /** Makes a filled template read-only and clonable (zfs: snapshot `@template`, readonly=on). */
  sealTemplate(name: string): Promise<void>;
  /** A container volume from a sealed template; resolves to its path. */
  cloneTemplate(template: string, id: string, properties?: Record<string, string>): Promise<string>;

  exists(kind: VolumeKind, name: string): Promise<boolean>;
  info(kind: VolumeKind, name: string): Promise<VolumeInfo>;
  list(kind: VolumeKind): Promise<VolumeInfo[]>;
  /** Sets properties; a value of undefined removes the property. */
  setProperties(kind: VolumeKind, name: string, properties: Record<string, string | undefined>): Promise<void>;
  /** Destroys a volume with its snapshots. A template that still has clones is refused. */
  destroy(kind: VolumeKind, name: string): Promise<void>;
  rename(kind: VolumeKind, from: string, to: string): Promise<void>;

  snapshot(id: string, snapshot: string): Promise<void>;
  /** Oldest first. */
  listSnapshots(id: string): Promise<SnapshotInfo[]>;
  /**
   * Restores a container volume to a snapshot. Later snapshots are refused unless
   * `discardNewer`, which destroys them (as `zfs rollback -r`).
   */
  rollback(id: string, snapshot: string, options?: { discardNewer?: boolean }): Promise<void>;
  destroySnapshot(id: string, snapshot: string): Promise<void>;

  usage(kind: VolumeKind, name: string): Promise<VolumeUsage>;
  space(): Promise<SpaceInfo>;
  /** Limits a container volume's size in bytes (undefined: no limit). Needs capabilities.quotas. */
  setQuota(id: string, bytes: number | undefined): Promise<void>;
}

/**
 * Volume and snapshot names become dataset components and directory names: letters, digits and
 * `_ - . :` only (what every ZFS accepts), not starting with `.` or `-`, at most 200 bytes.
 * An image digest (`sha256:…`) is a valid name.
 */
export function validateVolumeName(name: string, what = 'volume name'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/.test(name)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(name)} is not usable for storage: use 1 to 200 letters, digits, "_", "-", "." or ":", not starting with "." or "-"`,
    );
  }
  return name;
}

/** berth's property keys: lower case, as ZFS user properties need (`berth:<key>`). */
export function validatePropertyKey(key: string): string {
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(key)) {
    throw new InvalidArgumentError(`storage property key ${JSON.stringify(key)} must be 1 to 64 of a-z, 0-9, "_", "-", ".", starting with a letter`);
  }
  return key;
}

/** Values are one line of printable text (zfs prints them tab-separated, one per line). */
export function validatePropertyValue(key: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value === '' || value === '-' || /[\x00-\x1f\x7f]/.test(value) || Buffer.byteLength(value) > 1024) {
    throw new InvalidArgumentError(
      `storage property ${key} has an unusable value ${JSON.stringify(value)}: it must be 1 to 1024 bytes of printable text and not "-"`,
    );
  }
  return value;
}

export function validateProperties(properties: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(properties)) {
    validatePropertyKey(k);
    if (v !== undefined) validatePropertyValue(k, v);
  }
}

/** The template snapshot's name (zfs `images/<name>@template`). */
export const TEMPLATE_SNAPSHOT = 'template';
