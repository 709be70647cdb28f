// The image cache: one sealed template per manifest digest (volume name = the digest), made
// once by unpacking the image's layers, and container volumes cloned from it. The pool is the
// truth (template properties: digest, refs, platform, config …; container volumes' origins);
// the index file adds last-use times and is rebuilt from the pool whenever it is lost or stale.
// Imports and removals are transactions (cache-repair.ts): the seal commits an import, the
// `removing` mark a removal, and every listing repairs what a killed berth left.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { publishImageCache } from '../core/channels.js';
import type { RegistriesConfig, StorageConfig } from '../core/config.js';
import { ImageInUseError, ImageNotFoundError, InvalidArgumentError, StorageError, VolumeExistsError, VolumeNotFoundError } from '../core/errors.js';
import { validateContainerId } from '../core/ids.js';
import { log } from '../core/log.js';
import { ROOT_ID_PATTERN } from '../core/state-root.js';
import { DEFAULT_MAX_IMAGE_SIZE } from '../core/sizes.js';
import type { StorageDriver, VolumeInfo } from '../storage/driver.js';
import { openStorage, openStorageAt } from '../storage/registry.js';
import { configFromProperties, configToProperties, summarizeConfig } from './config-summary.js';
import { parseDigest } from './digest.js';
import { ImageIndex, type IndexEntry } from './image-index.js';
import { pendingCacheRepairs, REMOVING, repairTemplate, repairUnfinished, reportIndexRepair, type PendingCacheRepair } from './cache-repair.js';
import { crashPoint } from '../core/crash-point.js';
import { formatPlatform, parsePlatform, platformMatches } from './platform.js';
import type { ContainerVolume, ContainerVolumeInfo, ImageCache, ImageInfo, ImageRecord, ImageSource, ImportOptions, PullOptions, PullResult, PushOptions, PushResult, StorageLocation, TemplateRootfs, VolumeRemoval } from './types.js';
import { inSpan } from '../core/tracing.js';

export const DEFAULT_STATE_DIR = '/var/lib/berth';

/** Refs are joined by "," in one storage property: no commas, no spaces, printable. */
export function validateRef(ref: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$/.test(ref)) {
    throw new InvalidArgumentError(`image name ${JSON.stringify(ref)} is not usable: use 1 to 255 of letters, digits and . _ / : @ + -, starting with a letter or digit`);
  }
  if (/^(sha256:)?[a-f0-9]{12,}$/.test(ref)) throw new InvalidArgumentError(`image name "${ref}" looks like a digest: choose a name that is not one`);
  return ref;
}

const VOLUME_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;

/** Whose a container volume is, from its own properties. */
function volumeInfoOf(c: VolumeInfo): ContainerVolumeInfo {
  return { id: c.properties['container-id'] ?? c.name, rootId: c.properties['root-id'], volume: c.name, mounted: c.mounted };
}

function now(): string {
  return new Date().toISOString();
}

class StorageImageCache implements ImageCache {
  constructor(
    private readonly driver: StorageDriver,
    private readonly index: ImageIndex,
    /** The unpacking cap in bytes ([storage] max_image_size). */
    private readonly maxBytes: number,
    /** [registries]: default registry, mirrors, insecure hosts for pulls. */
    private readonly registries: RegistriesConfig,
  ) {}

  containerVolumeName(containerId: string, rootId?: string): string {
    validateContainerId(containerId);
    if (rootId !== undefined && !ROOT_ID_PATTERN.test(rootId)) throw new InvalidArgumentError(`state root id ${JSON.stringify(rootId)} is not 10 hex digits`);
    // The root's id first: two roots (or two hosts on one pool) with the same container id
    // never share a volume. Without it (0.8.0's scheme, kept for its records): the id alone.
    const prefix = rootId === undefined ? '' : `${rootId}-`;
    if (VOLUME_NAME.test(prefix + containerId)) return prefix + containerId;
    // Readable prefix + a hash of the whole id; the id itself is stored as berth:container-id.
    const readable = containerId.replace(/[^A-Za-z0-9_.:-]/g, '-').replace(/^[.-]+/, '').slice(0, 48);
    return `${prefix}${readable || 'c'}_${createHash('sha256').update(containerId).digest('hex').slice(0, 16)}`;
  }

  /** The image a sealed template of ours holds, from its own properties (undefined: not one). */
  private imageFrom(t: VolumeInfo, entry: IndexEntry | undefined): ImageInfo | undefined {
    const p = t.properties;
    // Not (yet, or any more) an image of ours: unsealed (an import at work or killed), or being removed.
    if (!t.sealed || !p.digest || p.digest !== t.name || p[REMOVING] === '1') return undefined;
    const [os, architecture, variant] = (p.platform ?? '').split('/');
    return {
      digest: p.digest,
      refs: p.ref ? p.ref.split(',') : [],
      template: t.name,
      size: Number(p.size ?? entry?.size ?? 0),
      created: p.created ?? entry?.created,
      imported: p.imported ?? entry?.imported ?? '',
      lastUsed: entry?.lastUsed,
      platform: { os: os ?? '', architecture: architecture ?? '', ...(variant ? { variant } : {}) },
      config: configFromProperties(p) ?? entry?.config ?? {},
      parked: p.parked === '1',
      source: p.source ? { ref: p.source, digest: p['source-digest'] ?? '', pulled: p.pulled ?? '', ...(p.mirror ? { mirror: p.mirror } : {}) } : undefined,
    };
  }

  private recordFrom(t: VolumeInfo, containers: VolumeInfo[], entry: IndexEntry | undefined): ImageRecord | undefined {
    const image = this.imageFrom(t, entry);
    if (!image) return undefined;
    const clones = containers.filter((c) => c.origin === t.name);
    return {
      ...image,
      containers: clones.map((c) => c.properties['container-id'] ?? c.name).sort(),
      containerVolumes: clones.map(volumeInfoOf).sort((a, b) => a.volume.localeCompare(b.volume)),
    };
  }

  private toEntry(r: ImageRecord, configDigest: string | undefined): IndexEntry {
    const { containers: _c, containerVolumes: _v, template: _t, ...rest } = r;
    return { ...rest, configDigest };
  }

  async list(op = 'image-ls'): Promise<ImageRecord[]> {
    const [listed, containers] = await Promise.all([this.driver.list('image'), this.driver.list('container')]);
    const templates = await repairUnfinished(this.driver, this.index, listed, op);
    const stored = this.index.read();
    const records: ImageRecord[] = [];
    for (const t of templates) {
      const r = this.recordFrom(t, containers, stored?.[t.name]);
      if (r) records.push(r);
    }
    // The pool is the truth: an index that is missing or disagrees with it is rebuilt.
    const fresh = Object.fromEntries(records.map((r) => [r.digest, this.toEntry(r, templates.find((t) => t.name === r.template)?.properties['config-digest'])]));
    if (JSON.stringify(stored) !== JSON.stringify(fresh)) {
      await reportIndexRepair(this.index, stored, fresh, op);
      await this.index.update((images) => {
        for (const k of Object.keys(images)) if (!fresh[k]) delete images[k];
        for (const [k, e] of Object.entries(fresh)) images[k] = { ...e, lastUsed: images[k]?.lastUsed ?? e.lastUsed };
      });
    }
    return records;
  }

  pendingRepairs(): Promise<PendingCacheRepair[]> {
    return pendingCacheRepairs(this.driver, this.index);
  }

  async resolve(ref: string, op?: string): Promise<ImageRecord> {
    const records = await this.list(op);
    const byRef = records.find((r) => r.refs.includes(ref));
    if (byRef) return byRef;
    const m = /^(?:(sha256|sha512):)?([a-f0-9]{12,128})$/.exec(ref);
    if (m) {
      const [, algorithm, hex] = m;
      const found = records.filter((r) => (algorithm === undefined || r.digest.startsWith(`${algorithm}:`)) && r.digest.split(':')[1]!.startsWith(hex!));
      if (found.length === 1) return found[0]!;
      if (found.length > 1) throw new InvalidArgumentError(`digest prefix "${ref}" is ambiguous: ${found.map((r) => r.digest).join(', ')}`);
    }
    throw new ImageNotFoundError(`image "${ref}" is not in the cache (${this.driver.location})${sameRepository(ref, records)}; import it with: berth image import PATH --name ${ref}`);
  }

  async import(source: string, options: ImportOptions = {}): Promise<ImageRecord & { hit: boolean }> {
    const name = options.name === undefined ? undefined : validateRef(options.name);
    // Only an import reads layouts and unpacks layers: a create from a cached image loads none of it.
    const [{ resolveImage }, { unpackLayers }, { buildTemplate }] = await Promise.all([
      import('./oci-layout.js'),
      import('./layer-unpack.js'),
      import('../storage/template-build.js'),
    ]);
    const image = await resolveImage(source, parsePlatform(options.platform));
    const digest = image.manifest.digest;
    parseDigest(digest, 'manifest');
    const hit = await this.index.withDigestLock(digest, async () => {
      if (await this.driver.exists('image', digest)) {
        // Half-made or half-removed by a berth that was killed: finished first (then unpacked anew).
        const gone = await repairTemplate(this.driver, this.index, digest, 'image-import');
        if (!gone) {
          const t = await this.driver.info('image', digest);
          if (t.sealed && t.properties.digest === digest) {
            // Importing a parked image again takes it back into use.
            if (t.properties.parked) await this.driver.setProperties('image', digest, { parked: undefined });
            return true;
          }
          await log('warn', `template ${digest} is not one berth made (no matching berth:digest); replacing it`, { op: 'image-import' });
          await this.driver.destroy('image', digest);
        }
      }
      const summary = summarizeConfig(image.config.config);
      const properties: Record<string, string> = {
        digest,
        imported: now(),
        platform: formatPlatform(image.platform),
        'config-digest': image.configDigest,
        ...configToProperties(summary),
      };
      if (typeof image.config.created === 'string' && image.config.created !== '') properties.created = image.config.created;
      await inSpan('image.unpack', { 'berth.image.digest': digest }, () =>
        buildTemplate(this.driver, digest, properties, async (rootfs) => {
          const { size } = await unpackLayers(image.layers, (l) => image.openBlob(l), rootfs, { onProgress: options.onProgress, maxBytes: this.maxBytes });
          await this.driver.setProperties('image', digest, { size: String(size) });
          crashPoint('image-import:unpacked');
        }),
      );
      // Sealed: the import is committed in the pool; its index entry follows at once.
      crashPoint('image-import:sealed');
      const made = this.recordFrom(await this.driver.info('image', digest), [], undefined);
      if (made) await this.index.update((images) => void (images[digest] = this.toEntry(made, image.configDigest)));
      return false;
    });
    if (name !== undefined) await this.addRef(digest, name);
    const record = (await this.list()).find((r) => r.digest === digest);
    if (!record) throw new ImageNotFoundError(`image ${digest} was removed while it was being imported`);
    return { ...record, hit };
  }

  async pull(ref: string, options: PullOptions = {}): Promise<PullResult> {
    // Loaded only by a pull: the registry client (and undici) costs the other verbs nothing.
    const { pullImage } = await import('./registry/pull.js');
    return pullImage(this, this.index.dir, ref, { ...options, registries: options.registries ?? this.registries });
  }

  async push(ref: string, dest: string, options: PushOptions = {}): Promise<PushResult> {
    const { pushImage } = await import('./registry/push.js');
    return pushImage(this, this.index.dir, ref, dest, { ...options, registries: options.registries ?? this.registries });
  }

  async recordSource(digest: string, source: ImageSource): Promise<void> {
    await this.index.withDigestLock(digest, () =>
      this.driver.setProperties('image', digest, { source: source.ref, 'source-digest': source.digest, pulled: source.pulled, mirror: source.mirror }),
    );
  }

  async addName(digest: string, name: string): Promise<ImageRecord> {
    await this.addRef(digest, validateRef(name));
    const record = (await this.list()).find((r) => r.digest === digest);
    if (!record) throw new ImageNotFoundError(`image ${digest} was removed while it was being named`);
    return record;
  }

  /** Gives `ref` to `digest` (taken from any other image, as a tag moves) and unparks it. */
  private addRef(digest: string, ref: string): Promise<void> {
    return this.index.withRefsLock(() => this.moveRef(digest, ref));
  }

  private async moveRef(digest: string, ref: string): Promise<void> {
    for (const t of await this.driver.list('image')) {
      const refs = t.properties.ref ? t.properties.ref.split(',') : [];
      if (t.name === digest) {
        if (!refs.includes(ref) || t.properties.parked) {
          await this.driver.setProperties('image', digest, { ref: [...new Set([...refs, ref])].join(','), parked: undefined });
        }
      } else if (refs.includes(ref)) {
        const rest = refs.filter((r) => r !== ref);
        await this.driver.setProperties('image', t.name, { ref: rest.length ? rest.join(',') : undefined });
      }
    }
  }

  async remove(ref: string, options: { force?: boolean } = {}): Promise<{ digest: string; parked: boolean }> {
    const { digest } = await this.resolve(ref, 'image-rm');
    return this.index.withDigestLock(digest, async () => {
      const current = (await this.list('image-rm')).find((r) => r.digest === digest);
      if (!current) throw new ImageNotFoundError(`image "${ref}" (${digest}) is not in the cache any more`);
      if (current.containers.length > 0) {
        if (!options.force) {
          throw new ImageInUseError(
            `image "${ref}" (${digest}) is used by container volumes: ${current.containerVolumes.map((v) => (v.rootId ? `${v.id} (root ${v.rootId})` : v.id)).join(', ')}; delete them first, or use --force to remove its names now and the image with its last container`,
          );
        }
        await this.index.withRefsLock(() => this.driver.setProperties('image', digest, { ref: undefined, parked: '1' }));
        await this.index.update((images) => {
          const e = images[digest];
          if (e) Object.assign(e, { refs: [], parked: true });
        });
        return { digest, parked: true };
      }
      await this.destroyTemplate(digest);
      return { digest, parked: false };
    });
  }

  /** Marked first, so that a killed removal is seen as one (and finished) by the next verb. */
  private async destroyTemplate(digest: string): Promise<void> {
    await this.driver.setProperties('image', digest, { [REMOVING]: '1' });
    crashPoint('image-rm:marked');
    await this.driver.destroy('image', digest);
    crashPoint('image-rm:destroyed');
    await this.index.update((images) => {
      delete images[digest];
    });
  }

  async prune(options: { olderThan?: number; maxSize?: number } = {}): Promise<ImageRecord[]> {
    // The listing also clears what interrupted imports and removals left (cache-repair.ts).
    const records = await this.list('image-prune');
    const lastTouch = (r: ImageRecord): number => Date.parse(r.lastUsed ?? r.imported) || 0;
    const unused = records.filter((r) => r.containers.length === 0).sort((a, b) => lastTouch(a) - lastTouch(b));
    const chosen = new Set<ImageRecord>();
    if (options.olderThan === undefined && options.maxSize === undefined) unused.forEach((r) => chosen.add(r));
    if (options.olderThan !== undefined) {
      const cutoff = Date.now() - options.olderThan;
      for (const r of unused) if (lastTouch(r) < cutoff) chosen.add(r);
    }
    if (options.maxSize !== undefined) {
      let total = records.filter((r) => !chosen.has(r)).reduce((n, r) => n + r.size, 0);
      for (const r of unused) {
        if (total <= options.maxSize) break;
        if (chosen.has(r)) continue;
        chosen.add(r);
        total -= r.size;
      }
    }
    const removed: ImageRecord[] = [];
    for (const r of unused.filter((x) => chosen.has(x))) {
      const gone = await this.index.withDigestLock(r.digest, async () => {
        // Re-checked under the lock: a container may have been made from it meanwhile.
        const clones = (await this.driver.list('container')).filter((c) => c.origin === r.template);
        if (clones.length > 0 || !(await this.driver.exists('image', r.template))) return false;
        await this.destroyTemplate(r.digest);
        return true;
      });
      if (gone) removed.push(r);
    }
    return removed;
  }

  /**
   * The index entry of `ref` (a ref or a full digest), without asking the pool: a create's
   * fast path, which then confirms it against the template's own properties. Digest prefixes are
   * left to resolve(): only a listing of the pool can say that a prefix is unambiguous.
   */
  private indexedEntry(ref: string): IndexEntry | undefined {
    const entries = Object.values(this.index.read() ?? {});
    return entries.find((e) => e.digest === ref) ?? entries.find((e) => e.refs.includes(ref));
  }

  /** A cached ref/digest, or a layout path imported on a miss; `hit` says whether it was cached. */
  private async resolveOrImport(refOrPath: string, platform: string | undefined): Promise<{ image: ImageInfo; hit: boolean }> {
    try {
      return { image: await this.resolve(refOrPath), hit: true };
    } catch (err) {
      if (!(err instanceof ImageNotFoundError) || !existsSync(refOrPath)) throw err;
      const imported = await this.import(refOrPath, { platform });
      return { image: imported, hit: imported.hit };
    }
  }

  /**
   * Under the digest lock: the image `ref` names, read from its template's properties, if the
   * template is there, sealed and (for a ref) still carries that ref; undefined otherwise.
   * Throws ImageNotFoundError for a parked template: it is being removed.
   */
  private async usableImage(digest: string, ref: string, entry: IndexEntry | undefined): Promise<{ image: ImageInfo; template: VolumeInfo } | undefined> {
    let template: VolumeInfo;
    try {
      template = await this.driver.info('image', digest);
    } catch (err) {
      if (err instanceof VolumeNotFoundError) return undefined;
      throw err;
    }
    const image = this.imageFrom(template, entry);
    if (!image || (ref !== digest && !image.refs.includes(ref))) return undefined;
    if (image.parked) throw new ImageNotFoundError(`image ${digest} is being removed (parked until its last container goes); import it again to use it`);
    return { image, template };
  }

  /**
   * Runs `use` on the image `refOrPath` names, under its digest lock. The index names the digest
   * and the template confirms it (one storage read); when the index does not know the ref or
   * disagrees with the pool, the pool is listed (which rebuilds the index), or a layout imported.
   */
  private async withUsableImage<T>(
    refOrPath: string,
    platform: string | undefined,
    use: (image: ImageInfo, template: VolumeInfo) => Promise<T>,
  ): Promise<{ image: ImageInfo; hit: boolean; result: T }> {
    // A ref names one image of one platform: another platform asked for is not in the cache.
    const want = platform === undefined ? undefined : parsePlatform(platform);
    const wanted = use;
    use = async (image, template) => {
      if (want && !platformMatches(image.platform, want)) {
        throw new ImageNotFoundError(
          `image "${refOrPath}" in the cache is ${formatPlatform(image.platform)}, not ${formatPlatform(want)}: import the ${formatPlatform(want)} image from its layout under its own name (berth image import PATH --platform ${formatPlatform(want)} --name NAME), or give the layout's path to --image with --platform`,
        );
      }
      return wanted(image, template);
    };
    const indexed = this.indexedEntry(refOrPath);
    if (indexed !== undefined) {
      const done = await this.index.withDigestLock(indexed.digest, async () => {
        const found = await this.usableImage(indexed.digest, refOrPath, indexed);
        return found && { image: found.image, result: await use(found.image, found.template) };
      });
      if (done) return { ...done, hit: true };
    }
    const { image, hit } = await this.resolveOrImport(refOrPath, platform);
    return this.index.withDigestLock(image.digest, async () => {
      const found = await this.usableImage(image.digest, image.digest, this.index.read()?.[image.digest]);
      if (!found) throw new ImageNotFoundError(`image ${image.digest} was removed meanwhile`);
      return { image: found.image, hit, result: await use(found.image, found.template) };
    });
  }

  /** Records the use (last-used time, the cache hit or miss); resolves to the new last-used time. */
  private async used(image: ImageInfo, hit: boolean): Promise<string> {
    const lastUsed = now();
    await this.index.update((images) => {
      const e = images[image.digest];
      if (e) e.lastUsed = lastUsed;
    });
    publishImageCache({ result: hit ? 'hit' : 'miss', digest: image.digest });
    return lastUsed;
  }

  async createContainerVolume(refOrPath: string, containerId: string, options: { platform?: string; rootId?: string } = {}): Promise<ContainerVolume> {
    const { rootId } = options;
    const volume = this.containerVolumeName(containerId, rootId);
    // Whose volume it is, on the volume itself: listings of a shared pool tell roots apart.
    const owner = { 'container-id': containerId, ...(rootId !== undefined ? { 'root-id': rootId } : {}) };
    const clone = (image: ImageInfo): Promise<string> => this.driver.cloneTemplate(image.template, volume, { ...owner, image: image.digest });
    let made;
    try {
      made = await this.withUsableImage(refOrPath, options.platform, clone);
    } catch (err) {
      if (!(err instanceof VolumeExistsError)) throw err;
      // The caller holds the id's create lock and has no live record: the volume is what an
      // interrupted create left behind. Rarely taken, so the usual create asks nothing first.
      await log('info', `replacing the container volume "${volume}" an interrupted create left behind`, { op: 'create', id: containerId });
      await this.destroyContainerVolume(containerId, { rootId, volume });
      made = await this.withUsableImage(refOrPath, options.platform, clone);
    }
    const lastUsed = await this.used(made.image, made.hit);
    return { path: made.result, volume, storage: this.storage(), image: { ...made.image, lastUsed }, hit: made.hit };
  }

  async containerVolumes(): Promise<ContainerVolumeInfo[]> {
    return (await this.driver.list('container')).map(volumeInfoOf);
  }

  storage(): StorageLocation {
    return { driver: this.driver.name, location: this.driver.location };
  }

  async templateRootfs(refOrPath: string, options: { platform?: string } = {}): Promise<TemplateRootfs> {
    const { image, hit, result: path } = await this.withUsableImage(refOrPath, options.platform, async (_image, template) => {
      if (!template.mounted) throw new StorageError(`the template of image ${template.name} is not mounted (${this.driver.location}): mount it again to use the image`);
      return template.path;
    });
    const lastUsed = await this.used(image, hit);
    return { path, image: { ...image, lastUsed }, hit };
  }

  async destroyContainerVolume(containerId: string, options: { rootId?: string; volume?: string } = {}): Promise<VolumeRemoval> {
    const volume = options.volume ?? this.containerVolumeName(containerId, options.rootId);
    if (!(await this.driver.exists('container', volume))) return 'missing';
    const info = await this.driver.info('container', volume);
    // Only the owner's volume: the same id in another root (or a name collision) is not ours.
    const p = info.properties;
    if ((p['container-id'] !== undefined && p['container-id'] !== containerId) || p['root-id'] !== options.rootId) return 'not-ours';
    await this.driver.destroy('container', volume);
    const template = info.origin;
    if (template === undefined || !/^sha(256|512):/.test(template)) return 'destroyed';
    await this.index.withDigestLock(template, async () => {
      if (!(await this.driver.exists('image', template))) return;
      const t = await this.driver.info('image', template);
      if (t.properties.parked !== '1') return;
      const clones = (await this.driver.list('container')).filter((c) => c.origin === template);
      if (clones.length > 0) return;
      await this.destroyTemplate(template);
      await log('info', `removed parked image ${template}: its last container volume is gone`, { op: 'image-rm' });
    });
    return 'destroyed';
  }
}

/**
 * The image cache over the configured storage, or over `at` (the storage a container record
 * names, for its delete); its index lives under `stateDir` (default /var/lib/berth).
 */
export async function openImageCache(options: { storage: StorageConfig; registries?: RegistriesConfig; stateDir?: string; at?: StorageLocation }): Promise<ImageCache> {
  const stateDir = options.stateDir ?? options.storage.state_dir ?? DEFAULT_STATE_DIR;
  if (!stateDir.startsWith('/')) throw new InvalidArgumentError(`the image state directory must be an absolute path, not ${JSON.stringify(stateDir)}`);
  const driver = options.at ? await openStorageAt(options.at) : await openStorage(options.storage);
  return new StorageImageCache(driver, new ImageIndex(stateDir), options.storage.max_image_size ?? DEFAULT_MAX_IMAGE_SIZE, options.registries ?? {});
}

/** `; the cache has REPO:OTHER` when other tags of the ref's repository are cached, else nothing. */
function sameRepository(ref: string, records: readonly ImageRecord[]): string {
  const repository = (r: string): string => r.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  const repo = repository(ref);
  const others = records.flatMap((r) => r.refs).filter((r) => r !== ref && repository(r) === repo);
  return others.length === 0 ? '' : `; the cache has ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}`;
}
