// The dir storage driver: plain directories and full copies, the default when no pool is
// configured. Layout under the configured directory D:
//   D/images/<name>/fs            a template's files          D/images/<name>/volume.json
//   D/containers/<id>/fs          a container volume's files  D/containers/<id>/volume.json
//   D/containers/<id>/snapshots/<snapshot>   a snapshot: a full copy of fs
// Copies go through `cp -a --reflink=auto` (ownership, modes, timestamps, symlinks, hard links,
// device nodes, xattrs kept; shared extents where the file system can). A sealed template is
// read-only by berth's convention only: the directory stays writable for root.
import { mkdir, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { errnoCode, InvalidArgumentError, StorageError, StorageFullError, UnsupportedError, VolumeExistsError, VolumeNotFoundError } from '../../core/errors.js';
import { runTool, type ToolRunner } from '../../core/exec.js';
import { Revert } from '../../core/revert.js';
import {
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

export interface DirDriverOptions {
  dir: string;
  run?: ToolRunner;
}

/** What volume.json holds. */
interface VolumeMeta {
  properties: Record<string, string>;
  origin?: string;
  sealed: boolean;
  snapshots: SnapshotInfo[];
}

const KIND_DIR: Record<VolumeKind, string> = { image: 'images', container: 'containers' };
const META = 'volume.json';

function label(kind: VolumeKind): string {
  return kind === 'image' ? 'template' : 'container volume';
}

export class DirDriver implements StorageDriver {
  readonly name = 'dir' as const;
  readonly capabilities: StorageCapabilities = { clones: false, snapshots: true, quotas: false };
  readonly location: string;
  private readonly run: ToolRunner;

  constructor(options: DirDriverOptions) {
    if (!options.dir.startsWith('/')) throw new InvalidArgumentError(`storage directory must be an absolute path, not ${JSON.stringify(options.dir)}`);
    this.location = options.dir;
    this.run = options.run ?? runTool;
  }

  /** The directory of a volume (names are checked first). */
  volumeDir(kind: VolumeKind, name: string): string {
    return join(this.location, KIND_DIR[kind], validateVolumeName(name, kind === 'image' ? 'template name' : 'container volume name'));
  }

  private async readMeta(kind: VolumeKind, name: string): Promise<VolumeMeta> {
    const dir = this.volumeDir(kind, name);
    try {
      return JSON.parse(await readFile(join(dir, META), 'utf8')) as VolumeMeta;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new VolumeNotFoundError(`${label(kind)} "${name}" does not exist (no ${join(dir, META)})`, { cause: err });
      throw new StorageError(`cannot read ${join(dir, META)}: ${(err as Error).message}`, { cause: err });
    }
  }

  private writeMeta(kind: VolumeKind, name: string, meta: VolumeMeta): void {
    writeFileAtomic(join(this.volumeDir(kind, name), META), JSON.stringify(meta, null, 2) + '\n');
  }

  /** Makes D/<kind>/<name> (only if it is new) with its volume.json; a revert removes it. */
  private async newVolume(kind: VolumeKind, name: string, meta: VolumeMeta, revert: Revert): Promise<string> {
    const dir = this.volumeDir(kind, name);
    await this.guard(`cannot create ${join(this.location, KIND_DIR[kind])}`, () => mkdir(join(this.location, KIND_DIR[kind]), { recursive: true }));
    try {
      await mkdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new VolumeExistsError(`${label(kind)} "${name}" already exists (${dir})`, { cause: err });
      throw this.fsError(err, `cannot create ${dir}`);
    }
    revert.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    await this.guard(`cannot write ${join(dir, META)}`, async () => this.writeMeta(kind, name, meta));
    return dir;
  }

  private fsError(err: unknown, doing: string): Error {
    const msg = err instanceof Error ? err.message : String(err);
    if (errnoCode(err) === 'ENOSPC') return new StorageFullError(`${doing}: no space left in ${this.location} (${msg})`, { cause: err });
    return new StorageError(`${doing}: ${msg}`, { cause: err });
  }

  private async guard<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.fsError(err, doing);
    }
  }

  /** `cp -a --reflink=auto SRC DST` (DST must not exist). */
  private async copyTree(src: string, dst: string, doing: string): Promise<void> {
    const r = await this.run(['cp', '-a', '--reflink=auto', '--', src, dst]);
    if (r.exitCode === 0) return;
    const said = r.stderr.trim().split('\n').slice(0, 3).join('; ') || `exit ${r.exitCode ?? r.signal}`;
    if (/no space left on device/i.test(r.stderr)) throw new StorageFullError(`${doing}: no space left in ${this.location} (cp: ${said})`);
    throw new StorageError(`${doing}: cp -a ${src} ${dst}: ${said}`);
  }

  async createTemplate(name: string, properties: Record<string, string> = {}): Promise<string> {
    validateProperties(properties);
    const revert = new Revert();
    try {
      const dir = await this.newVolume('image', name, { properties: { ...properties }, sealed: false, snapshots: [] }, revert);
      await this.guard(`cannot create ${join(dir, 'fs')}`, () => mkdir(join(dir, 'fs'), { mode: 0o755 }));
      revert.commit();
      return join(dir, 'fs');
    } catch (err) {
      await revert.run();
      throw err;
    }
  }

  async sealTemplate(name: string): Promise<void> {
    const meta = await this.readMeta('image', name);
    if (meta.sealed) throw new VolumeExistsError(`template "${name}" is already sealed`);
    meta.sealed = true;
    await this.guard(`cannot seal template "${name}"`, async () => this.writeMeta('image', name, meta));
  }

  async cloneTemplate(template: string, id: string, properties: Record<string, string> = {}): Promise<string> {
    validateProperties(properties);
    const source = await this.readMeta('image', template);
    if (!source.sealed) throw new VolumeNotFoundError(`template "${template}" is not sealed`);
    const revert = new Revert();
    try {
      const dir = await this.newVolume('container', id, { properties: { ...properties }, origin: template, sealed: false, snapshots: [] }, revert);
      await this.copyTree(join(this.volumeDir('image', template), 'fs'), join(dir, 'fs'), `cannot copy template "${template}" into container volume "${id}"`);
      revert.commit();
      return join(dir, 'fs');
    } catch (err) {
      await revert.run();
      throw err;
    }
  }

  async exists(kind: VolumeKind, name: string): Promise<boolean> {
    try {
      return (await stat(this.volumeDir(kind, name))).isDirectory();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw this.fsError(err, `cannot look at ${this.volumeDir(kind, name)}`);
    }
  }

  async info(kind: VolumeKind, name: string): Promise<VolumeInfo> {
    const meta = await this.readMeta(kind, name);
    const path = join(this.volumeDir(kind, name), 'fs');
    const mounted = await stat(path).then((s) => s.isDirectory(), () => false);
    return { kind, name, path, mounted, origin: meta.origin, sealed: kind === 'image' && meta.sealed, properties: meta.properties };
  }

  async list(kind: VolumeKind): Promise<VolumeInfo[]> {
    let names: string[];
    try {
      names = (await readdir(join(this.location, KIND_DIR[kind]), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw this.fsError(err, `cannot list ${join(this.location, KIND_DIR[kind])}`);
    }
    const out: VolumeInfo[] = [];
    for (const name of names.sort()) {
      try {
        out.push(await this.info(kind, name));
      } catch (err) {
        if (!(err instanceof VolumeNotFoundError)) throw err; // a half-made volume: not listed
      }
    }
    return out;
  }

  async setProperties(kind: VolumeKind, name: string, properties: Record<string, string | undefined>): Promise<void> {
    validateProperties(properties);
    const meta = await this.readMeta(kind, name);
    for (const [k, v] of Object.entries(properties)) {
      if (v === undefined) delete meta.properties[k];
      else meta.properties[k] = v;
    }
    await this.guard(`cannot write the properties of ${label(kind)} "${name}"`, async () => this.writeMeta(kind, name, meta));
  }

  async destroy(kind: VolumeKind, name: string): Promise<void> {
    const dir = this.volumeDir(kind, name);
    if (!(await this.exists(kind, name))) throw new VolumeNotFoundError(`${label(kind)} "${name}" does not exist (no ${dir})`);
    if (kind === 'image') {
      const clones = (await this.list('container')).filter((c) => c.origin === name).map((c) => c.name);
      if (clones.length) throw new StorageError(`template "${name}" still has container volumes made from it: ${clones.join(', ')}`);
    }
    await this.guard(`cannot remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  }

  async rename(kind: VolumeKind, from: string, to: string): Promise<void> {
    const src = this.volumeDir(kind, from);
    const dst = this.volumeDir(kind, to);
    if (!(await this.exists(kind, from))) throw new VolumeNotFoundError(`${label(kind)} "${from}" does not exist (no ${src})`);
    if (await this.exists(kind, to)) throw new VolumeExistsError(`cannot rename ${label(kind)} "${from}" to "${to}": it already exists (${dst})`);
    await this.guard(`cannot rename ${src} to ${dst}`, () => rename(src, dst));
    if (kind === 'image') {
      // Keep the clones pointing at their template under its new name, as zfs origins do.
      for (const c of (await this.list('container')).filter((v) => v.origin === from)) {
        const meta = await this.readMeta('container', c.name);
        meta.origin = to;
        this.writeMeta('container', c.name, meta);
      }
    }
  }

  async snapshot(id: string, snapshot: string): Promise<void> {
    validateVolumeName(snapshot, 'snapshot name');
    const meta = await this.readMeta('container', id);
    if (meta.snapshots.some((s) => s.name === snapshot)) throw new VolumeExistsError(`snapshot "${snapshot}" of container volume "${id}" already exists`);
    const dir = this.volumeDir('container', id);
    const target = join(dir, 'snapshots', snapshot);
    const revert = new Revert();
    try {
      await this.guard(`cannot create ${join(dir, 'snapshots')}`, () => mkdir(join(dir, 'snapshots'), { recursive: true }));
      revert.add(`remove ${target}`, () => rm(target, { recursive: true, force: true }));
      await this.copyTree(join(dir, 'fs'), target, `cannot snapshot container volume "${id}" as "${snapshot}"`);
      meta.snapshots.push({ name: snapshot, created: Math.floor(Date.now() / 1000) });
      await this.guard(`cannot record snapshot "${snapshot}"`, async () => this.writeMeta('container', id, meta));
      revert.commit();
    } catch (err) {
      await revert.run();
      throw err;
    }
  }

  async listSnapshots(id: string): Promise<SnapshotInfo[]> {
    return (await this.readMeta('container', id)).snapshots;
  }

  async rollback(id: string, snapshot: string, options: { discardNewer?: boolean } = {}): Promise<void> {
    validateVolumeName(snapshot, 'snapshot name');
    const meta = await this.readMeta('container', id);
    const at = meta.snapshots.findIndex((s) => s.name === snapshot);
    if (at < 0) throw new VolumeNotFoundError(`snapshot "${snapshot}" of container volume "${id}" does not exist`);
    const later = meta.snapshots.slice(at + 1).map((s) => s.name);
    if (later.length && !options.discardNewer) {
      throw new StorageError(`cannot roll container volume "${id}" back to "${snapshot}": later snapshots exist (${later.join(', ')}); discard them to go back that far`);
    }
    const dir = this.volumeDir('container', id);
    const fresh = join(dir, `fs.rollback-${process.pid}`);
    const old = join(dir, `fs.old-${process.pid}`);
    await rm(fresh, { recursive: true, force: true });
    try {
      await this.copyTree(join(dir, 'snapshots', snapshot), fresh, `cannot roll container volume "${id}" back to "${snapshot}"`);
    } catch (err) {
      await rm(fresh, { recursive: true, force: true });
      throw err;
    }
    // Swap by renames so the volume is never half-restored.
    await this.guard(`cannot move ${join(dir, 'fs')} aside`, () => rename(join(dir, 'fs'), old));
    await this.guard(`cannot move ${fresh} into place`, () => rename(fresh, join(dir, 'fs')));
    await rm(old, { recursive: true, force: true });
    for (const name of later) await rm(join(dir, 'snapshots', name), { recursive: true, force: true });
    meta.snapshots = meta.snapshots.slice(0, at + 1);
    await this.guard(`cannot record the rollback of "${id}"`, async () => this.writeMeta('container', id, meta));
  }

  async destroySnapshot(id: string, snapshot: string): Promise<void> {
    validateVolumeName(snapshot, 'snapshot name');
    const meta = await this.readMeta('container', id);
    if (!meta.snapshots.some((s) => s.name === snapshot)) throw new VolumeNotFoundError(`snapshot "${snapshot}" of container volume "${id}" does not exist`);
    const dir = this.volumeDir('container', id);
    await this.guard(`cannot remove snapshot "${snapshot}"`, () => rm(join(dir, 'snapshots', snapshot), { recursive: true, force: true }));
    meta.snapshots = meta.snapshots.filter((s) => s.name !== snapshot);
    await this.guard(`cannot record the removal of snapshot "${snapshot}"`, async () => this.writeMeta('container', id, meta));
  }

  /** Disk usage in bytes by `du -s -B1` (hard links counted once). */
  private async du(path: string): Promise<number> {
    const r = await this.run(['du', '-s', '-B1', '--', path]);
    const n = Number(r.stdout.split('\t')[0]);
    if (r.exitCode !== 0 || !Number.isFinite(n)) throw new StorageError(`du -s -B1 ${path}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    return n;
  }

  async usage(kind: VolumeKind, name: string): Promise<VolumeUsage> {
    if (!(await this.exists(kind, name))) throw new VolumeNotFoundError(`${label(kind)} "${name}" does not exist (no ${this.volumeDir(kind, name)})`);
    const bytes = await this.du(join(this.volumeDir(kind, name), 'fs'));
    return { used: bytes, referenced: bytes };
  }

  async space(): Promise<SpaceInfo> {
    await this.guard(`cannot create ${this.location}`, () => mkdir(this.location, { recursive: true }));
    const fs = await this.guard(`cannot statfs ${this.location}`, () => statfs(this.location));
    return { used: await this.du(this.location), available: fs.bavail * fs.bsize };
  }

  async setQuota(_id: string, _bytes: number | undefined): Promise<void> {
    throw new UnsupportedError(`the dir storage driver has no quotas (${this.location} is a plain directory)`);
  }
}
