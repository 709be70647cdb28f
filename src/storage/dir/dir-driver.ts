// The dir storage driver: plain directories and full copies, the default when no pool is
// configured. Layout under the configured directory D:
//   D/images/<name>/fs            a template's files          D/images/<name>/volume.json
//   D/containers/<id>/fs          a container volume's files  D/containers/<id>/volume.json
//   D/containers/<id>/snapshots/<snapshot>   a snapshot: a full copy of fs
// Crash safety: every change is made under a staged name and committed by one rename (see
// dir-leftovers.ts); what a killed berth left is repaired or removed by the next change.
// Copies go through `cp -a --reflink=auto` (ownership, modes, timestamps, symlinks, hard links,
// device nodes, xattrs kept; shared extents where the file system can). A sealed template is
// read-only by berth's convention only: the directory stays writable for root.
import { mkdir, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { errnoCode, InvalidArgumentError, NewerSnapshotsError, StorageError, StorageFullError, UnsupportedError, VolumeExistsError, VolumeNotFoundError } from '../../core/errors.js';
import { runTool, type ToolRunner } from '../../core/exec.js';
import { log } from '../../core/log.js';
import { Revert } from '../../core/revert.js';
import { STAGE, ownerIsDead, parseLeftover, stagedName } from './dir-leftovers.js';
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

/**
 * rm -rf, retried while the tree is still changing: a leftover's copy (cp, killed with its
 * berth by the parent-death signal) can still be writing for a moment after its owner died.
 */
function removeTree(path: string): Promise<void> {
  return rm(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
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

  /**
   * Makes D/<kind>/<name> whole or not at all: `fill` gets a staged directory holding the
   * volume.json, puts the files in its fs/, and one rename makes the volume appear. A killed
   * berth leaves only a staged directory, which the next listing removes.
   */
  private async newVolume(kind: VolumeKind, name: string, meta: VolumeMeta, fill: (fs: string) => Promise<void>): Promise<string> {
    const dir = this.volumeDir(kind, name);
    const kindDir = join(this.location, KIND_DIR[kind]);
    await this.guard(`cannot create ${kindDir}`, () => mkdir(kindDir, { recursive: true }));
    // Fail before a long copy; the rename below catches a volume made meanwhile.
    if (await this.exists(kind, name)) throw new VolumeExistsError(`${label(kind)} "${name}" already exists (${dir})`);
    // A directory without volume.json is what 0.8.0 left (see list): not a volume, so it goes.
    await this.guard(`cannot remove ${dir}`, () => removeTree(dir));
    const stage = join(kindDir, stagedName(STAGE.newVolume, name));
    const revert = new Revert();
    revert.add(`remove ${stage}`, () => removeTree(stage));
    try {
      await removeTree(stage);
      await this.guard(`cannot create ${stage}`, () => mkdir(stage));
      await this.guard(`cannot write ${join(stage, META)}`, async () => writeFileAtomic(join(stage, META), JSON.stringify(meta, null, 2) + '\n'));
      await fill(join(stage, 'fs'));
      try {
        await rename(stage, dir);
      } catch (err) {
        // Linux renames a directory over an empty one; a real volume is never empty.
        if (errnoCode(err) === 'ENOTEMPTY' || errnoCode(err) === 'EEXIST') throw new VolumeExistsError(`${label(kind)} "${name}" already exists (${dir})`, { cause: err });
        throw this.fsError(err, `cannot move ${stage} to ${dir}`);
      }
      revert.commit();
      return dir;
    } catch (err) {
      await revert.run();
      throw err;
    }
  }

  /** Removes what killed steps left in D/<kind>/ (staged and half-destroyed volumes of dead processes). */
  private async sweepKindDir(kindDir: string, entries: string[]): Promise<void> {
    for (const entry of entries) {
      const left = parseLeftover(entry, [STAGE.newVolume, STAGE.goneVolume]);
      if (left && ownerIsDead(left)) await removeTree(join(kindDir, entry));
    }
  }

  /**
   * Repairs a container volume after a killed snapshot, rollback or snapshot removal (called
   * with the container's lock held, by the steps that change its snapshots or files):
   * - fs missing: a rollback was killed between its two renames: its complete copy (fs.ready)
   *   goes into place, or else the old fs goes back;
   * - a snapshot copy that meta lists but that was not yet renamed into place is moved there;
   *   one that meta does not list was killed mid-copy and is removed, as is every other
   *   leftover of a dead process, and any snapshot directory meta does not list (only 0.8.0
   *   left those: a copy killed in place).
   * Returns the meta, rewritten if a removed snapshot was still listed.
   */
  private async recoverContainerVolume(id: string): Promise<VolumeMeta> {
    const meta = await this.readMeta('container', id);
    const dir = this.volumeDir('container', id);
    const entries = await readdir(dir);
    const fsStages = entries
      .map((e) => ({ entry: e, left: parseLeftover(e, [STAGE.rollbackCopy, STAGE.rollbackReady, STAGE.rollbackOld]) }))
      .filter((x) => x.left && ownerIsDead(x.left));
    if (!entries.includes('fs')) {
      const back = fsStages.find((x) => x.left!.prefix === STAGE.rollbackReady) ?? fsStages.find((x) => x.left!.prefix === STAGE.rollbackOld);
      if (back) await this.guard(`cannot repair ${join(dir, 'fs')}`, () => rename(join(dir, back.entry), join(dir, 'fs')));
    }
    for (const { entry } of fsStages) await removeTree(join(dir, entry));

    const snapDir = join(dir, 'snapshots');
    let snaps: string[] = [];
    try {
      snaps = await readdir(snapDir);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw this.fsError(err, `cannot list ${snapDir}`);
    }
    const listed = new Set(meta.snapshots.map((s) => s.name));
    let dropped = false;
    for (const entry of snaps) {
      const left = parseLeftover(entry, [STAGE.partialSnapshot, STAGE.goneSnapshot]);
      if (left) {
        if (!ownerIsDead(left)) continue;
        if (left.prefix === STAGE.partialSnapshot && listed.has(left.name) && !snaps.includes(left.name)) {
          await this.guard(`cannot repair snapshot "${left.name}"`, () => rename(join(snapDir, entry), join(snapDir, left.name)));
          continue;
        }
        if (left.prefix === STAGE.goneSnapshot && listed.has(left.name) && !snaps.includes(left.name)) {
          // Its removal was under way: finish it.
          meta.snapshots = meta.snapshots.filter((s) => s.name !== left.name);
          dropped = true;
        }
        await removeTree(join(snapDir, entry));
      } else if (!listed.has(entry)) {
        await removeTree(join(snapDir, entry));
      }
    }
    if (dropped) await this.guard(`cannot record the repair of "${id}"`, async () => this.writeMeta('container', id, meta));
    return meta;
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
    // A copy killed with berth leaves a staged tree the next step removes; one that ran on would write into it.
    const r = await this.run(['cp', '-a', '--reflink=auto', '--', src, dst], { diesWithBerth: true });
    if (r.exitCode === 0) return;
    const said = r.stderr.trim().split('\n').slice(0, 3).join('; ') || `exit ${r.exitCode ?? r.signal}`;
    if (/no space left on device/i.test(r.stderr)) throw new StorageFullError(`${doing}: no space left in ${this.location} (cp: ${said})`);
    throw new StorageError(`${doing}: cp -a ${src} ${dst}: ${said}`);
  }

  async createTemplate(name: string, properties: Record<string, string> = {}): Promise<string> {
    validateProperties(properties);
    const dir = await this.newVolume('image', name, { properties: { ...properties }, sealed: false, snapshots: [] }, (fs) =>
      this.guard(`cannot create ${fs}`, () => mkdir(fs, { mode: 0o755 })),
    );
    return join(dir, 'fs');
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
    const dir = await this.newVolume('container', id, { properties: { ...properties }, origin: template, sealed: false, snapshots: [] }, (fs) =>
      this.copyTree(join(this.volumeDir('image', template), 'fs'), fs, `cannot copy template "${template}" into container volume "${id}"`),
    );
    return join(dir, 'fs');
  }

  /** A volume exists when its volume.json does: a directory without one is no volume (see list). */
  async exists(kind: VolumeKind, name: string): Promise<boolean> {
    try {
      return (await stat(join(this.volumeDir(kind, name), META))).isFile();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
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
    const kindDir = join(this.location, KIND_DIR[kind]);
    try {
      names = (await readdir(kindDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw this.fsError(err, `cannot list ${kindDir}`);
    }
    // Staged and half-destroyed volumes are no volumes; those of dead processes are removed.
    await this.sweepKindDir(kindDir, names.filter((n) => n.startsWith('.')));
    names = names.filter((n) => !n.startsWith('.'));
    const out: VolumeInfo[] = [];
    for (const name of names.sort()) {
      try {
        out.push(await this.info(kind, name));
      } catch (err) {
        if (!(err instanceof VolumeNotFoundError)) throw err;
        // No volume.json under a volume's own name: only 0.8.0 made those, by a create killed
        // before its volume.json or a removal killed after it (it removed in place). Finish it.
        await log('warn', `removing ${this.volumeDir(kind, name)}: a ${label(kind)} that an interrupted create or removal left without its ${META}`, { op: 'storage-repair' });
        await this.guard(`cannot remove ${this.volumeDir(kind, name)}`, () => removeTree(this.volumeDir(kind, name)));
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
    // Renamed away first: the volume is gone at once and whole, never half-removed under its
    // name; a killed removal leaves a .gone- directory that the next listing removes.
    const gone = join(this.location, KIND_DIR[kind], stagedName(STAGE.goneVolume, name));
    await this.guard(`cannot remove ${dir}`, () => rename(dir, gone));
    await this.guard(`cannot remove ${gone}`, () => removeTree(gone));
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
    const meta = await this.recoverContainerVolume(id);
    if (meta.snapshots.some((s) => s.name === snapshot)) throw new VolumeExistsError(`snapshot "${snapshot}" of container volume "${id}" already exists`);
    const dir = this.volumeDir('container', id);
    const target = join(dir, 'snapshots', snapshot);
    // Copied under a staged name, recorded, then renamed into place: a killed copy is never
    // listed, and a recorded one whose rename did not happen is moved into place by recovery.
    const partial = join(dir, 'snapshots', stagedName(STAGE.partialSnapshot, snapshot));
    await this.guard(`cannot create ${join(dir, 'snapshots')}`, () => mkdir(join(dir, 'snapshots'), { recursive: true }));
    try {
      await removeTree(partial);
      await this.copyTree(join(dir, 'fs'), partial, `cannot snapshot container volume "${id}" as "${snapshot}"`);
      meta.snapshots.push({ name: snapshot, created: Math.floor(Date.now() / 1000) });
      await this.guard(`cannot record snapshot "${snapshot}"`, async () => this.writeMeta('container', id, meta));
    } catch (err) {
      await removeTree(partial);
      throw err;
    }
    await this.guard(`cannot move snapshot "${snapshot}" into place`, () => rename(partial, target));
  }

  async listSnapshots(id: string): Promise<SnapshotInfo[]> {
    return (await this.readMeta('container', id)).snapshots;
  }

  async rollback(id: string, snapshot: string, options: { discardNewer?: boolean } = {}): Promise<void> {
    validateVolumeName(snapshot, 'snapshot name');
    const meta = await this.recoverContainerVolume(id);
    const at = meta.snapshots.findIndex((s) => s.name === snapshot);
    if (at < 0) throw new VolumeNotFoundError(`snapshot "${snapshot}" of container volume "${id}" does not exist`);
    const later = meta.snapshots.slice(at + 1).map((s) => s.name);
    if (later.length && !options.discardNewer) {
      throw new NewerSnapshotsError(`cannot roll container volume "${id}" back to "${snapshot}": later snapshots exist (${later.join(', ')})`, later);
    }
    const dir = this.volumeDir('container', id);
    const fresh = join(dir, stagedName(STAGE.rollbackCopy));
    const ready = join(dir, stagedName(STAGE.rollbackReady));
    const old = join(dir, stagedName(STAGE.rollbackOld));
    await removeTree(fresh);
    try {
      await this.copyTree(join(dir, 'snapshots', snapshot), fresh, `cannot roll container volume "${id}" back to "${snapshot}"`);
    } catch (err) {
      await removeTree(fresh);
      throw err;
    }
    // Marked complete, then swapped by renames: the volume is never half-restored, and a
    // rollback killed between the two renames is finished by recovery (fs.ready goes in).
    await this.guard(`cannot mark ${fresh} complete`, () => rename(fresh, ready));
    await this.guard(`cannot move ${join(dir, 'fs')} aside`, () => rename(join(dir, 'fs'), old));
    await this.guard(`cannot move ${ready} into place`, () => rename(ready, join(dir, 'fs')));
    await removeTree(old);
    // Later snapshots are renamed away before meta forgets them, so no unlisted one remains.
    const gone = later.map((name) => join(dir, 'snapshots', stagedName(STAGE.goneSnapshot, name)));
    for (const [i, name] of later.entries()) await this.guard(`cannot discard snapshot "${name}"`, () => rename(join(dir, 'snapshots', name), gone[i]!));
    meta.snapshots = meta.snapshots.slice(0, at + 1);
    await this.guard(`cannot record the rollback of "${id}"`, async () => this.writeMeta('container', id, meta));
    for (const path of gone) await removeTree(path);
  }

  async destroySnapshot(id: string, snapshot: string): Promise<void> {
    validateVolumeName(snapshot, 'snapshot name');
    const meta = await this.recoverContainerVolume(id);
    if (!meta.snapshots.some((s) => s.name === snapshot)) throw new VolumeNotFoundError(`snapshot "${snapshot}" of container volume "${id}" does not exist`);
    const dir = this.volumeDir('container', id);
    const gone = join(dir, 'snapshots', stagedName(STAGE.goneSnapshot, snapshot));
    await this.guard(`cannot remove snapshot "${snapshot}"`, () => rename(join(dir, 'snapshots', snapshot), gone));
    meta.snapshots = meta.snapshots.filter((s) => s.name !== snapshot);
    await this.guard(`cannot record the removal of snapshot "${snapshot}"`, async () => this.writeMeta('container', id, meta));
    await removeTree(gone);
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
