// The zfs storage driver. Layout under the configured parent dataset P (which must exist):
//   P/images/<name>             a template: filled once, then `@template` snapshot + readonly=on
//   P/containers/<id>           a container volume: a clone of P/images/<name>@template
// berth's properties are ZFS user properties `berth:<key>` (set locally on the dataset), so the
// pool itself tells which image a dataset holds. Clones are verified through `origin`.
import { InvalidArgumentError, NewerSnapshotsError, StorageError, StorageFullError, UnsupportedError, VolumeExistsError, VolumeNotFoundError } from '../../core/errors.js';
import { Revert } from '../../core/revert.js';
import {
  TEMPLATE_SNAPSHOT,
  validateProperties,
  validateVolumeName,
  type SnapshotInfo,
  type SpaceInfo,
  type StorageCapabilities,
  type StorageDriver,
  type VolumeInfo,
  type VolumeKind,
  type VolumeUsage,
} from '../driver.js';
import { ZfsCli, zfsFailure, type PropertyValue } from './zfs-cli.js';

export const USER_PROPERTY_PREFIX = 'berth:';

export interface ZfsDriverOptions {
  /** The parent dataset, e.g. `tank/berth`. */
  dataset: string;
  cli?: ZfsCli;
}

const KIND_DIR: Record<VolumeKind, string> = { image: 'images', container: 'containers' };

export class ZfsDriver implements StorageDriver {
  readonly name = 'zfs' as const;
  readonly capabilities: StorageCapabilities = { clones: true, snapshots: true, quotas: true };
  readonly location: string;
  readonly cli: ZfsCli;
  private layoutReady: Promise<void> | undefined;

  constructor(options: ZfsDriverOptions) {
    this.location = options.dataset;
    this.cli = options.cli ?? new ZfsCli();
  }

  /** The dataset of a volume (names are checked first). */
  dataset(kind: VolumeKind, name: string): string {
    return `${this.location}/${KIND_DIR[kind]}/${validateVolumeName(name, kind === 'image' ? 'template name' : 'container volume name')}`;
  }

  private templateSnapshot(template: string): string {
    return `${this.dataset('image', template)}@${TEMPLATE_SNAPSHOT}`;
  }

  private snapshotName(id: string, snapshot: string): string {
    return `${this.dataset('container', id)}@${validateVolumeName(snapshot, 'snapshot name')}`;
  }

  /** The parent must exist (berth never creates it); images/ and containers/ are made once. */
  private ready(): Promise<void> {
    this.layoutReady ??= this.prepareLayout().catch((err: unknown) => {
      this.layoutReady = undefined;
      throw err;
    });
    return this.layoutReady;
  }

  private async prepareLayout(): Promise<void> {
    // One listing answers both questions: does the parent exist, and which of its parts do.
    let children: string[];
    try {
      children = await this.cli.list(this.location, { depth: 1 });
    } catch (err) {
      const f = zfsFailure(err);
      if (f !== 'missing' && f !== 'no-pool') throw this.translate(err, `cannot read storage dataset "${this.location}"`);
      const pool = this.location.split('/')[0]!;
      if (!(await this.cli.poolExists(pool))) {
        const pools = await this.cli.poolList().catch(() => []);
        throw new StorageError(
          `storage dataset "${this.location}" does not exist: there is no pool "${pool}" (imported pools: ${pools.length ? pools.join(', ') : 'none'})`,
        );
      }
      throw new StorageError(`storage dataset "${this.location}" does not exist in pool "${pool}": create it with "zfs create -p ${this.location}"`);
    }
    for (const dir of Object.values(KIND_DIR)) {
      const ds = `${this.location}/${dir}`;
      if (children.includes(ds)) continue;
      try {
        await this.cli.create(ds);
      } catch (err) {
        if (zfsFailure(err) === 'exists') continue; // another berth made it meanwhile
        throw this.translate(err, `cannot create ${ds}`);
      }
    }
  }

  /** A zfs failure as a berth error that names what it was about. */
  private translate(err: unknown, doing: string, notFound?: string): Error {
    const msg = err instanceof Error ? err.message : String(err);
    switch (zfsFailure(err)) {
      case 'no-space':
        return new StorageFullError(`${doing}: pool "${this.location.split('/')[0]}" is out of space (${msg})`, { cause: err });
      case 'missing':
        if (notFound) return new VolumeNotFoundError(notFound, { cause: err });
        break;
      case 'exists':
        return new VolumeExistsError(`${doing}: it already exists`, { cause: err });
      default:
        break;
    }
    return new StorageError(`${doing}: ${msg}`, { cause: err });
  }

  /** Mountpoint of a mounted dataset (berth's volumes must be mounted filesystems). */
  private pathOf(ds: string, row: Map<string, PropertyValue> | undefined): string {
    const mountpoint = row?.get('mountpoint')?.value;
    const mounted = row?.get('mounted')?.value;
    if (!mountpoint || !mountpoint.startsWith('/') || mounted !== 'yes') {
      throw new StorageError(`dataset ${ds} is not mounted (mountpoint=${mountpoint ?? '?'}, mounted=${mounted ?? '?'}): berth needs its volumes mounted`);
    }
    return mountpoint;
  }

  private userProperties(properties: Record<string, string> | undefined): Record<string, string> {
    validateProperties(properties ?? {});
    return Object.fromEntries(Object.entries(properties ?? {}).map(([k, v]) => [USER_PROPERTY_PREFIX + k, v]));
  }

  async createTemplate(name: string, properties?: Record<string, string>): Promise<string> {
    const ds = this.dataset('image', name);
    const props = this.userProperties(properties);
    await this.ready();
    try {
      await this.cli.create(ds, { properties: props });
    } catch (err) {
      throw this.translate(err, `cannot create template "${name}" (${ds})`);
    }
    const revert = new Revert();
    revert.add(`destroy ${ds}`, () => this.cli.destroy(ds, { recursive: true }));
    try {
      const path = this.pathOf(ds, (await this.cli.get([ds], ['mountpoint', 'mounted'])).get(ds));
      revert.commit();
      return path;
    } catch (err) {
      await revert.run();
      throw err;
    }
  }

  async sealTemplate(name: string): Promise<void> {
    const ds = this.dataset('image', name);
    await this.ready();
    const snap = this.templateSnapshot(name);
    if (await this.cli.exists(snap)) throw new VolumeExistsError(`template "${name}" is already sealed (${snap} exists)`);
    try {
      await this.cli.snapshot(snap);
    } catch (err) {
      throw this.translate(err, `cannot seal template "${name}" (snapshot ${snap})`, `template "${name}" does not exist (no dataset ${ds})`);
    }
    try {
      await this.cli.set(ds, 'readonly', 'on');
    } catch (err) {
      await this.cli.destroy(snap).catch(() => undefined);
      throw this.translate(err, `cannot make template "${name}" read-only (${ds})`);
    }
  }

  async cloneTemplate(template: string, id: string, properties?: Record<string, string>): Promise<string> {
    const snap = this.templateSnapshot(template);
    const ds = this.dataset('container', id);
    const props = this.userProperties(properties);
    await this.ready();
    try {
      await this.cli.clone(snap, ds, { properties: props });
    } catch (err) {
      if (zfsFailure(err) === 'missing') {
        const hasTemplate = await this.cli.exists(this.dataset('image', template));
        throw new VolumeNotFoundError(
          hasTemplate ? `template "${template}" is not sealed (no snapshot ${snap})` : `template "${template}" does not exist (no dataset ${this.dataset('image', template)})`,
          { cause: err },
        );
      }
      throw this.translate(err, `cannot clone template "${template}" into container volume "${id}" (${ds})`);
    }
    const revert = new Revert();
    revert.add(`destroy ${ds}`, () => this.cli.destroy(ds, { recursive: true }));
    try {
      const row = (await this.cli.get([ds], ['origin', 'mountpoint', 'mounted'])).get(ds);
      const origin = row?.get('origin')?.value;
      if (origin !== snap) throw new StorageError(`container volume ${ds} has origin ${origin ?? '?'} instead of ${snap}: not the clone berth made`);
      const path = this.pathOf(ds, row);
      revert.commit();
      return path;
    } catch (err) {
      await revert.run();
      throw err;
    }
  }

  async exists(kind: VolumeKind, name: string): Promise<boolean> {
    const ds = this.dataset(kind, name);
    await this.ready();
    return this.cli.exists(ds);
  }

  private infoFrom(kind: VolumeKind, name: string, ds: string, row: Map<string, PropertyValue>, sealed: boolean): VolumeInfo {
    const properties: Record<string, string> = {};
    for (const [prop, { value, source }] of row) {
      if (prop.startsWith(USER_PROPERTY_PREFIX) && (source === 'local' || source === 'received')) properties[prop.slice(USER_PROPERTY_PREFIX.length)] = value;
    }
    const rawOrigin = row.get('origin')?.value;
    let origin: string | undefined;
    if (rawOrigin && rawOrigin !== '-') {
      const prefix = `${this.location}/${KIND_DIR.image}/`;
      const suffix = `@${TEMPLATE_SNAPSHOT}`;
      origin = rawOrigin.startsWith(prefix) && rawOrigin.endsWith(suffix) ? rawOrigin.slice(prefix.length, -suffix.length) : rawOrigin;
    }
    // Not pathOf: an unmounted volume is described (mounted: false), not an error, so that one
    // unmounted dataset does not make every listing (image ls, image rm) fail.
    const mountpoint = row.get('mountpoint')?.value ?? '';
    const mounted = mountpoint.startsWith('/') && row.get('mounted')?.value === 'yes';
    return { kind, name, path: mountpoint.startsWith('/') ? mountpoint : '', mounted, origin, sealed, properties };
  }

  async info(kind: VolumeKind, name: string): Promise<VolumeInfo> {
    return (await this.collect(kind, name))[0]!;
  }

  async list(kind: VolumeKind): Promise<VolumeInfo[]> {
    return this.collect(kind, undefined);
  }

  /** One `zfs get all` over one volume or all of a kind (with snapshots, to see seals). */
  private async collect(kind: VolumeKind, name: string | undefined): Promise<VolumeInfo[]> {
    const root = `${this.location}/${KIND_DIR[kind]}`;
    const target = name === undefined ? root : this.dataset(kind, name);
    await this.ready();
    let table;
    try {
      table = await this.cli.get([target], ['all'], { depth: name === undefined ? 2 : 1 });
    } catch (err) {
      throw this.translate(err, `cannot read ${target}`, `${kind === 'image' ? 'template' : 'container volume'} "${name}" does not exist (no dataset ${target})`);
    }
    const out: VolumeInfo[] = [];
    for (const [ds, row] of table) {
      if (ds.includes('@') || ds === root) continue;
      const volume = ds.slice(root.length + 1);
      if (volume.includes('/')) continue;
      // Sealed = the @template snapshot exists (clones come from it). Not `readonly`: zfs-fuse
      // reports it as `off` (source `temporary`) even while it is set and enforced.
      const sealed = kind === 'image' && table.has(`${ds}@${TEMPLATE_SNAPSHOT}`);
      out.push(this.infoFrom(kind, volume, ds, row, sealed));
    }
    return out;
  }

  async setProperties(kind: VolumeKind, name: string, properties: Record<string, string | undefined>): Promise<void> {
    validateProperties(properties);
    const ds = this.dataset(kind, name);
    await this.ready();
    for (const [key, value] of Object.entries(properties)) {
      const prop = USER_PROPERTY_PREFIX + key;
      try {
        if (value === undefined) await this.cli.inherit(ds, prop);
        else await this.cli.set(ds, prop, value);
      } catch (err) {
        throw this.translate(err, `cannot set ${prop} on ${ds}`, `${kind === 'image' ? 'template' : 'container volume'} "${name}" does not exist (no dataset ${ds})`);
      }
    }
  }

  async destroy(kind: VolumeKind, name: string): Promise<void> {
    const ds = this.dataset(kind, name);
    await this.ready();
    try {
      await this.cli.destroy(ds, { recursive: true });
    } catch (err) {
      if (zfsFailure(err) === 'has-clones') {
        const what = kind === 'image' ? `template "${name}" still has container volumes cloned from it` : `container volume "${name}" has snapshots that other datasets were cloned from`;
        throw new StorageError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      throw this.translate(err, `cannot destroy ${ds}`, `${kind === 'image' ? 'template' : 'container volume'} "${name}" does not exist (no dataset ${ds})`);
    }
  }

  async rename(kind: VolumeKind, from: string, to: string): Promise<void> {
    const src = this.dataset(kind, from);
    const dst = this.dataset(kind, to);
    await this.ready();
    const doing = `cannot rename ${src} to ${dst}`;
    const notFound = `${kind === 'image' ? 'template' : 'container volume'} "${from}" does not exist (no dataset ${src})`;
    if (await this.cli.exists(dst)) throw new VolumeExistsError(`${doing}: it already exists`);
    // zfs-fuse answers `dataset is busy` to renaming a mounted dataset that has been used, for as
    // long as it stays mounted: unmount, rename, mount (OpenZFS does the same steps itself).
    let mounted: boolean;
    try {
      mounted = (await this.cli.getOne(src, 'mounted')) === 'yes';
    } catch (err) {
      throw this.translate(err, doing, notFound);
    }
    if (mounted) {
      try {
        await this.cli.unmount(src);
      } catch (err) {
        throw this.translate(err, `${doing}: cannot unmount it`);
      }
    }
    try {
      await this.cli.rename(src, dst);
    } catch (err) {
      if (mounted) await this.cli.mount(src).catch(() => undefined);
      throw this.translate(err, doing, notFound);
    }
    if (mounted) {
      try {
        await this.cli.mount(dst);
      } catch (err) {
        throw this.translate(err, `renamed ${src} to ${dst} but cannot mount it`);
      }
    }
  }

  async snapshot(id: string, snapshot: string): Promise<void> {
    const snap = this.snapshotName(id, snapshot);
    await this.ready();
    try {
      await this.cli.snapshot(snap);
    } catch (err) {
      throw this.translate(err, `cannot snapshot container volume "${id}" as ${snap}`, `container volume "${id}" does not exist (no dataset ${this.dataset('container', id)})`);
    }
  }

  async listSnapshots(id: string): Promise<SnapshotInfo[]> {
    const ds = this.dataset('container', id);
    await this.ready();
    let table;
    try {
      table = await this.cli.get([ds], ['createtxg', 'creation'], { depth: 1 });
    } catch (err) {
      throw this.translate(err, `cannot list snapshots of ${ds}`, `container volume "${id}" does not exist (no dataset ${ds})`);
    }
    return [...table]
      .filter(([name]) => name.startsWith(`${ds}@`))
      .map(([name, row]) => ({ name: name.slice(ds.length + 1), txg: Number(row.get('createtxg')?.value), created: Number(row.get('creation')?.value) }))
      .sort((a, b) => a.txg - b.txg)
      .map(({ name, created }) => ({ name, created }));
  }

  async rollback(id: string, snapshot: string, options: { discardNewer?: boolean } = {}): Promise<void> {
    const snap = this.snapshotName(id, snapshot);
    await this.ready();
    try {
      await this.cli.rollback(snap, { destroyNewer: options.discardNewer === true });
    } catch (err) {
      if (zfsFailure(err) === 'newer-snapshots') {
        const newer = (await this.listSnapshots(id)).map((s) => s.name);
        const later = newer.slice(newer.indexOf(snapshot) + 1);
        throw new NewerSnapshotsError(`cannot roll container volume "${id}" back to "${snapshot}": later snapshots exist (${later.join(', ')})`, later, {
          cause: err,
        });
      }
      throw this.translate(err, `cannot roll back to ${snap}`, `snapshot "${snapshot}" of container volume "${id}" does not exist (no ${snap})`);
    }
  }

  async destroySnapshot(id: string, snapshot: string): Promise<void> {
    const snap = this.snapshotName(id, snapshot);
    await this.ready();
    try {
      await this.cli.destroy(snap);
    } catch (err) {
      throw this.translate(err, `cannot destroy ${snap}`, `snapshot "${snapshot}" of container volume "${id}" does not exist (no ${snap})`);
    }
  }

  async usage(kind: VolumeKind, name: string): Promise<VolumeUsage> {
    const ds = this.dataset(kind, name);
    await this.ready();
    try {
      const row = (await this.cli.get([ds], ['used', 'referenced'])).get(ds);
      return { used: Number(row?.get('used')?.value), referenced: Number(row?.get('referenced')?.value) };
    } catch (err) {
      throw this.translate(err, `cannot read the usage of ${ds}`, `${kind === 'image' ? 'template' : 'container volume'} "${name}" does not exist (no dataset ${ds})`);
    }
  }

  async space(): Promise<SpaceInfo> {
    await this.ready();
    const row = (await this.cli.get([this.location], ['used', 'available'])).get(this.location);
    return { used: Number(row?.get('used')?.value), available: Number(row?.get('available')?.value) };
  }

  async setQuota(id: string, bytes: number | undefined): Promise<void> {
    if (!this.capabilities.quotas) throw new UnsupportedError('the zfs driver has no quotas');
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes <= 0)) throw new InvalidArgumentError(`quota must be a positive number of bytes, not ${bytes}`);
    const ds = this.dataset('container', id);
    await this.ready();
    try {
      await this.cli.set(ds, 'refquota', bytes === undefined ? 'none' : String(bytes));
    } catch (err) {
      throw this.translate(err, `cannot set the quota of ${ds}`, `container volume "${id}" does not exist (no dataset ${ds})`);
    }
  }
}
