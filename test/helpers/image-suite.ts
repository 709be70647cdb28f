// What the image cache must do, as its users see it: one suite, run against each real storage
// driver (zfs on a zfs-fuse pool, dir in a temp dir). Images are built by the tests
// (oci-image.ts); every failure case also checks that nothing was left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { subscribeImageCache, type ImageCacheEvent } from '../../src/core/channels.js';
import type { StorageConfig } from '../../src/core/config.js';
import { ImageError, ImageInUseError, ImageNotFoundError, StorageError } from '../../src/core/errors.js';
import { openImageCache, type ImageCache } from '../../src/images/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { tempDir } from './bundle.js';
import { missing } from './host.js';
import { buildOciLayout, busyboxLayerDir, type BuiltLayout, type LayerSpec, type TarEntrySpec } from './oci-image.js';

export interface ImageFixture {
  storage: StorageConfig;
  driver: StorageDriver;
  stateDir: string;
  /** Datasets / directories the driver still holds besides its layout; [] when clean. */
  leftovers(): Promise<string[]>;
  /** zfs: the `origin` property of a container volume's dataset, read with zfs get. */
  zfsOrigin?(volume: string): Promise<string | undefined>;
  /** False where the file system has no extended attributes (zfs-fuse): they are then skipped. */
  xattrs: boolean;
  /** Takes a volume's files away as an operator might (zfs: zfs unmount; dir: its fs/ moved aside); resolves to the undo. */
  unmount(kind: 'image' | 'container', name: string): Promise<() => Promise<void>>;
}

/** Everything in the state dir besides index.json and the (empty) locks directory. */
export function stateLeftovers(stateDir: string): string[] {
  const dir = join(stateDir, 'images');
  if (!existsSync(dir)) return [];
  const out = readdirSync(dir).filter((n) => n !== 'index.json' && n !== 'locks');
  if (existsSync(join(dir, 'locks'))) out.push(...readdirSync(join(dir, 'locks')).map((n) => `locks/${n}`));
  return out;
}

function indexDigests(stateDir: string): string[] {
  const file = join(stateDir, 'images/index.json');
  return existsSync(file) ? Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { images: object }).images) : [];
}

let counter = 0;

export function imageCacheSuite(label: string, fixture: () => ImageFixture): void {
  describe(`image cache: ${label}`, () => {
    const work = tempDir('berth-images-');
    let cache: ImageCache;
    let busybox: BuiltLayout;
    const events: ImageCacheEvent[] = [];
    let unsubscribe: () => void;
    const f = (): ImageFixture => fixture();

    async function layout(layers: LayerSpec[], opts: { tar?: boolean } = {}): Promise<BuiltLayout> {
      const dir = join(work.path, `img-${++counter}`);
      mkdirSync(dir);
      return buildOciLayout(dir, { images: [{ layers }], tar: opts.tar });
    }

    async function assertNothingLeft(what: string): Promise<void> {
      assert.deepEqual(await f().leftovers(), [], `${what}: no dataset or directory left`);
      assert.deepEqual(stateLeftovers(f().stateDir), [], `${what}: no lock or temp file left`);
      assert.deepEqual(indexDigests(f().stateDir), [], `${what}: no index entry left`);
    }

    before(async () => {
      cache = await openImageCache({ storage: f().storage, stateDir: f().stateDir });
      const rootfs = busyboxLayerDir(join(work.path, 'busybox-rootfs'));
      mkdirSync(join(work.path, 'bb'));
      busybox = await buildOciLayout(join(work.path, 'bb'), {
        images: [{ layers: [{ dir: rootfs, compression: 'gzip' }, { entries: [{ name: 'etc/motd', content: 'hello\n' }], compression: 'zstd' }], config: { Cmd: ['sh'], Env: ['PATH=/bin'], WorkingDir: '/root', Labels: { a: 'b' } } }],
        tar: true,
      });
      unsubscribe = subscribeImageCache((e) => events.push(e));
    });
    after(() => {
      unsubscribe();
      work.remove();
    });

    test('import from a tar: unpacked into a sealed template named by the manifest digest, with its properties', async () => {
      const r = await cache.import(busybox.tarFile!, { name: 'localhost/busybox:1' });
      const digest = busybox.manifests[0]!.digest;
      assert.equal(r.hit, false);
      assert.equal(r.digest, digest);
      assert.equal(r.template, digest);
      assert.deepEqual(r.refs, ['localhost/busybox:1']);
      assert.deepEqual(r.config, { Cmd: ['sh'], Env: ['PATH=/bin'], WorkingDir: '/root', Labels: { a: 'b' } });
      assert.equal(r.parked, false);
      assert.deepEqual(r.containers, []);
      assert.equal(r.created, '2024-01-02T03:04:05Z');
      assert.ok(r.size > 1_000_000, `size ${r.size} counts busybox`);
      const info = await f().driver.info('image', digest);
      assert.equal(info.sealed, true);
      assert.equal(info.properties.digest, digest);
      assert.equal(info.properties.ref, 'localhost/busybox:1');
      assert.equal(info.properties.size, String(r.size));
      assert.match(info.properties.platform!, /^linux\//);
      assert.match(info.properties['config-digest']!, /^sha256:[a-f0-9]{64}$/);
      assert.ok(info.properties.imported);
      assert.equal(readFileSync(join(info.path, 'etc/motd'), 'utf8'), 'hello\n', 'the zstd layer is applied');
      assert.ok(statSync(join(info.path, 'bin/busybox')).size > 500_000);
      assert.equal(readlinkSync(join(info.path, 'bin/sh')), 'busybox');
      assert.deepEqual(stateLeftovers(f().stateDir), []);
    });

    test('the same image from its directory is a hit; the refs are merged; resolve by ref, digest and prefix', async () => {
      const r = await cache.import(busybox.layout, { name: 'bb:2' });
      assert.equal(r.hit, true);
      assert.deepEqual(r.refs, ['localhost/busybox:1', 'bb:2']);
      const digest = r.digest;
      for (const ref of ['bb:2', digest, digest.slice(7, 19), `sha256:${digest.slice(7, 30)}`]) assert.equal((await cache.resolve(ref)).digest, digest, ref);
      await assert.rejects(cache.resolve(digest.slice(7, 17)), ImageNotFoundError, 'a prefix shorter than 12 is not a digest');
      await assert.rejects(cache.resolve('nope:1'), ImageNotFoundError);
      assert.equal((await cache.list()).length, 1);
    });

    test('the index is rebuilt from the pool when its file is lost or damaged', async () => {
      const before = await cache.list();
      const file = join(f().stateDir, 'images/index.json');
      rmSync(file);
      const rebuilt = await cache.list();
      assert.deepEqual(rebuilt, before);
      assert.deepEqual(indexDigests(f().stateDir), [before[0]!.digest], 'index.json written again');
      writeFileSync(file, '{"version": 1, "images": {"sha256:stale": {}}');
      assert.deepEqual(await cache.list(), before);
      assert.deepEqual(indexDigests(f().stateDir), [before[0]!.digest]);
    });

    test('two container volumes from one image: hits, independent, made from the template (clones on zfs)', async () => {
      events.length = 0;
      const a = await cache.createContainerVolume('bb:2', 'ctr-a');
      const b = await cache.createContainerVolume(busybox.manifests[0]!.digest, 'a+b');
      assert.equal(a.hit, true);
      assert.equal(a.volume, 'ctr-a');
      assert.notEqual(b.volume, 'a+b', 'an id storage refuses is mapped');
      assert.equal(b.volume, cache.containerVolumeName('a+b'));
      assert.match(b.volume, /^a-b_[a-f0-9]{16}$/);
      assert.equal((await f().driver.info('container', b.volume)).properties['container-id'], 'a+b');
      writeFileSync(join(a.path, 'etc/motd'), 'changed\n');
      assert.equal(readFileSync(join(b.path, 'etc/motd'), 'utf8'), 'hello\n');
      for (const v of [a.volume, b.volume]) {
        assert.equal((await f().driver.info('container', v)).origin, a.image.template);
        if (f().zfsOrigin) assert.match((await f().zfsOrigin!(v))!, new RegExp(`/images/${a.image.digest}@template$`), 'a ZFS clone of the template');
      }
      assert.deepEqual(events, [
        { result: 'hit', digest: a.image.digest },
        { result: 'hit', digest: a.image.digest },
      ]);
      const r = await cache.resolve('bb:2');
      assert.deepEqual(r.containers, ['a+b', 'ctr-a']);
      assert.ok(r.lastUsed && Date.now() - Date.parse(r.lastUsed) < 60_000, 'last use recorded');
    });

    test('a container volume from a path that is not cached imports it: a miss', async () => {
      events.length = 0;
      const img = await layout([{ entries: [{ name: 'only-here', content: 'x' }] }]);
      const v = await cache.createContainerVolume(img.layout, 'ctr-path');
      assert.equal(v.hit, false);
      assert.equal(readFileSync(join(v.path, 'only-here'), 'utf8'), 'x');
      assert.deepEqual(events, [{ result: 'miss', digest: img.manifests[0]!.digest }]);
      await cache.destroyContainerVolume('ctr-path');
      await cache.remove(img.manifests[0]!.digest);
    });

    test('the index only points the way: a ref it gives the wrong image or one that is gone is looked up in the pool', async () => {
      const one = await layout([{ entries: [{ name: 'which', content: 'one' }] }]);
      const two = await layout([{ entries: [{ name: 'which', content: 'two' }] }]);
      await cache.import(one.layout, { name: 'moving:1' });
      const file = join(f().stateDir, 'images/index.json');
      const old = readFileSync(file, 'utf8');
      await cache.import(two.layout, { name: 'moving:1' });
      writeFileSync(file, old); // an index from before the ref moved: it still says moving:1 is `one`
      const v = await cache.createContainerVolume('moving:1', 'ctr-moving');
      assert.equal(v.image.digest, two.manifests[0]!.digest, 'the template the ref is on wins');
      assert.equal(readFileSync(join(v.path, 'which'), 'utf8'), 'two');
      await cache.destroyContainerVolume('ctr-moving');

      const gone = one.manifests[0]!.digest;
      await cache.remove(gone);
      const index = JSON.parse(old) as { images: Record<string, { refs: string[] }> };
      index.images[gone]!.refs = ['gone:1'];
      writeFileSync(file, JSON.stringify(index)); // names an image whose template was removed
      await assert.rejects(cache.createContainerVolume('gone:1', 'ctr-gone'), ImageNotFoundError);
      await assert.rejects(cache.createContainerVolume(gone, 'ctr-gone'), ImageNotFoundError);
      assert.equal(await f().driver.exists('container', 'ctr-gone'), false);
      await cache.remove('moving:1');
      assert.deepEqual((await cache.list()).map((r) => r.digest), [busybox.manifests[0]!.digest], 'the index is rebuilt from the pool');
    });

    test('a volume an interrupted create of the same id left behind is replaced by a fresh clone', async () => {
      const first = await cache.createContainerVolume('bb:2', 'ctr-again');
      writeFileSync(join(first.path, 'from-before'), 'x');
      const second = await cache.createContainerVolume('bb:2', 'ctr-again');
      assert.equal(second.volume, first.volume);
      assert.equal(existsSync(join(second.path, 'from-before')), false, 'a new clone of the template, not the old volume');
      assert.equal(readFileSync(join(second.path, 'etc/motd'), 'utf8'), 'hello\n');
      await cache.destroyContainerVolume('ctr-again');
      assert.equal(await f().driver.exists('container', 'ctr-again'), false);
    });

    test('the same id in two state roots: two volumes, each destroyed only by its own root; an unmounted or removed one does not fail list', async () => {
      const [ra, rb] = ['0123456789', 'abcdefabcd'];
      const a = await cache.createContainerVolume('bb:2', 'ctr-same', { rootId: ra });
      const b = await cache.createContainerVolume('bb:2', 'ctr-same', { rootId: rb });
      assert.deepEqual([a.volume, b.volume], [`${ra}-ctr-same`, `${rb}-ctr-same`]);
      assert.deepEqual(a.storage, { driver: f().driver.name, location: f().driver.location });
      writeFileSync(join(a.path, 'mine'), 'a');
      assert.equal(existsSync(join(b.path, 'mine')), false, "B's clone is not A's volume");
      const props = (await f().driver.info('container', a.volume)).properties;
      assert.deepEqual([props['container-id'], props['root-id']], ['ctr-same', ra]);
      const listed = (await cache.list()).find((r) => r.refs.includes('bb:2'))!;
      assert.deepEqual(listed.containerVolumes.filter((v) => v.id === 'ctr-same').map((v) => [v.rootId, v.volume, v.mounted]), [
        [ra, a.volume, true],
        [rb, b.volume, true],
      ]);
      // Root B naming A's volume (a forged or confused record) is refused; so is 0.8.0's scheme.
      assert.equal(await cache.destroyContainerVolume('ctr-same', { rootId: rb, volume: a.volume }), 'not-ours');
      assert.equal(await cache.destroyContainerVolume('ctr-same', { volume: a.volume }), 'not-ours');
      assert.equal(await cache.destroyContainerVolume('other-id', { rootId: ra, volume: a.volume }), 'not-ours');
      assert.equal(readFileSync(join(a.path, 'mine'), 'utf8'), 'a', "A's volume untouched");
      assert.equal(await cache.destroyContainerVolume('ctr-same', { rootId: rb }), 'destroyed');
      assert.equal(await f().driver.exists('container', b.volume), false);
      assert.equal(readFileSync(join(a.path, 'mine'), 'utf8'), 'a', "B's delete left A's volume");
      assert.equal(await cache.destroyContainerVolume('ctr-same', { rootId: rb }), 'missing', 'idempotent');
      assert.equal(await cache.destroyContainerVolume('ctr-same', { rootId: ra, volume: a.volume }), 'destroyed');
    });

    test('an unmounted volume or template is described, not fatal: list and rm work; only what needs the files refuses', async () => {
      const img = await layout([{ entries: [{ name: 'unmounted', content: 'x' }] }]);
      const { digest } = await cache.import(img.layout, { name: 'unmounted:1' });
      const v = await cache.createContainerVolume('unmounted:1', 'ctr-unmounted', { rootId: '0123456789' });
      const remountVolume = await f().unmount('container', v.volume);
      const listed = (await cache.list()).find((r) => r.digest === digest)!;
      assert.deepEqual(listed.containerVolumes.map((c) => [c.volume, c.mounted]), [[v.volume, false]]);
      await assert.rejects(cache.remove('unmounted:1'), ImageInUseError, 'in use, not a storage error');
      const remountTemplate = await f().unmount('image', digest);
      assert.ok((await cache.list()).some((r) => r.digest === digest), 'an unmounted template is still listed');
      await assert.rejects(cache.templateRootfs('unmounted:1'), (err: unknown) => err instanceof StorageError && /is not mounted/.test(err.message));
      await remountTemplate();
      await remountVolume();
      assert.equal(await cache.destroyContainerVolume('ctr-unmounted', { rootId: '0123456789' }), 'destroyed');
      await cache.remove('unmounted:1');
    });

    test('rm is refused while containers use the image; rm --force parks it until its last container volume goes', async () => {
      const digest = busybox.manifests[0]!.digest;
      await assert.rejects(cache.remove('bb:2'), (err: unknown) => err instanceof ImageInUseError && /ctr-a/.test(err.message) && /--force/.test(err.message));
      const r = await cache.remove('bb:2', { force: true });
      assert.deepEqual(r, { digest, parked: true });
      const rec = (await cache.list()).find((x) => x.digest === digest)!;
      assert.equal(rec.parked, true);
      assert.deepEqual(rec.refs, []);
      assert.equal((await f().driver.info('image', digest)).properties.parked, '1');
      await assert.rejects(cache.resolve('bb:2'), ImageNotFoundError, 'its names are gone');
      await assert.rejects(cache.createContainerVolume(digest, 'ctr-c'), ImageNotFoundError, 'no new containers from a parked image');
      await cache.destroyContainerVolume('ctr-a');
      assert.equal(await f().driver.exists('image', digest), true, 'still used by a+b');
      await cache.destroyContainerVolume('a+b');
      assert.equal(await f().driver.exists('image', digest), false, 'the last clone took the parked template with it');
      await cache.destroyContainerVolume('a+b'); // idempotent
      await assertNothingLeft('after the parked image went');
    });

    test('prune: all unused, --older-than by last use, --max-size least recently used first; never an image in use', async () => {
      const imgs: BuiltLayout[] = [];
      for (let i = 0; i < 3; i++) imgs.push(await layout([{ entries: [{ name: `f${i}`, content: Buffer.alloc(100_000 * (i + 1), i) }] }]));
      const digests: string[] = [];
      for (const img of imgs) digests.push((await cache.import(img.layout)).digest);
      await cache.createContainerVolume(digests[2]!, 'in-use');
      // Last use: image 0 long ago, image 1 an hour ago (the index is where last use lives).
      const file = join(f().stateDir, 'images/index.json');
      const index = JSON.parse(readFileSync(file, 'utf8')) as { images: Record<string, { lastUsed?: string }> };
      index.images[digests[0]!]!.lastUsed = new Date(Date.now() - 10 * 86_400_000).toISOString();
      index.images[digests[1]!]!.lastUsed = new Date(Date.now() - 3_600_000).toISOString();
      writeFileSync(file, JSON.stringify(index));

      assert.deepEqual((await cache.prune({ olderThan: 2 * 86_400_000 })).map((r) => r.digest), [digests[0]]);
      const sizes = Object.fromEntries((await cache.list()).map((r) => [r.digest, r.size]));
      assert.deepEqual((await cache.prune({ maxSize: sizes[digests[2]!]! + sizes[digests[1]!]! })).map((r) => r.digest), [], 'already small enough');
      assert.deepEqual((await cache.prune({ maxSize: 1 })).map((r) => r.digest), [digests[1]], 'the in-use image stays even over the limit');
      assert.deepEqual((await cache.list()).map((r) => r.digest), [digests[2]]);
      await cache.destroyContainerVolume('in-use');
      // A template left unsealed by a berth killed mid-import is not an image, and prune clears it.
      const unfinished = 'sha256:' + 'e'.repeat(64);
      await f().driver.createTemplate(unfinished, { digest: unfinished });
      assert.ok(!(await cache.list()).some((r) => r.digest === unfinished));
      assert.deepEqual((await cache.prune()).map((r) => r.digest), [digests[2]]);
      assert.equal(await f().driver.exists('image', unfinished), false);
      await assertNothingLeft('after prune');
    });

    test('two imports of one image at the same time unpack it once', async () => {
      const other = await openImageCache({ storage: f().storage, stateDir: f().stateDir });
      const [x, y] = await Promise.all([cache.import(busybox.tarFile!, { name: 'x' }), other.import(busybox.layout, { name: 'y' })]);
      assert.deepEqual([x.hit, y.hit].sort(), [false, true]);
      assert.deepEqual((await cache.resolve('x')).refs.sort(), ['x', 'y']);
      await cache.remove('x');
      await assertNothingLeft('after two imports and rm');
    });

    test('imports naming one image at the same time keep every name (the refs lock)', async () => {
      await cache.import(busybox.layout);
      const names = ['n:1', 'n:2', 'n:3', 'n:4', 'n:5', 'n:6'];
      const caches = await Promise.all(names.map(() => openImageCache({ storage: f().storage, stateDir: f().stateDir })));
      await Promise.all(names.map((name, i) => caches[i]!.import(busybox.layout, { name })));
      assert.deepEqual((await cache.resolve('n:1')).refs.sort(), names);
      await cache.remove('n:1');
      await assertNothingLeft('after the named imports and rm');
    });

    test('layers: whiteouts, opaque directories, hard links, symlinks, owners, modes, times, devices, FIFOs; plain, gzip and zstd', async () => {
      const mtime = new Date('2020-05-06T07:08:09Z');
      const img = await layout([
        {
          compression: 'gzip',
          entries: [
            { name: 'a/', type: 'directory' },
            { name: 'a/x', content: 'x' },
            { name: 'a/y', content: 'y' },
            { name: 'b/', type: 'directory' },
            { name: 'b/old', content: 'old' },
            { name: 'b/sub/', type: 'directory' },
            { name: 'b/sub/deep', content: 'deep' },
            { name: 'c', content: 'c' },
            { name: 'd/', type: 'directory' },
            { name: 'd/inner', content: 'inner' },
          ],
        },
        {
          compression: 'zstd',
          entries: [
            { name: '.wh.c' },
            { name: 'a/.wh.x' },
            { name: 'b/new', content: 'new' },
            { name: 'b/.wh..wh..opq' },
            { name: '.wh.d' },
            { name: 'd', content: 'now a file' },
          ],
        },
        {
          compression: 'none',
          entries: [
            { name: 'owned', content: 'o', uid: 1234, gid: 5678, mode: 0o640, mtime },
            { name: 'setuid', content: '#!/bin/sh\n', mode: 0o4755 },
            { name: 'sticky/', type: 'directory', mode: 0o1777, mtime },
            { name: 'sticky/hard', type: 'link', linkname: 'owned' },
            { name: 'rel-link', type: 'symlink', linkname: 'owned' },
            { name: 'abs-link', type: 'symlink', linkname: '/etc/passwd', uid: 7, gid: 8 },
            { name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
            { name: 'fifo', type: 'fifo', mode: 0o600 },
          ],
        },
      ]);
      const r = await cache.import(img.layout);
      const root = (await f().driver.info('image', r.template)).path;
      const st = (n: string) => lstatSync(join(root, n));
      assert.equal(existsSync(join(root, 'c')), false, '.wh.c removed c');
      assert.deepEqual(readdirSync(join(root, 'a')), ['y'], 'a/.wh.x removed a/x');
      assert.deepEqual(readdirSync(join(root, 'b')), ['new'], 'the opaque whiteout emptied b of the lower layer, kept its own entry');
      assert.equal(readFileSync(join(root, 'd'), 'utf8'), 'now a file', 'a directory whited out and replaced by a file');
      assert.equal(st('owned').uid, 1234);
      assert.equal(st('owned').gid, 5678);
      assert.equal(st('owned').mode & 0o7777, 0o640);
      assert.equal(st('owned').mtime.getTime(), mtime.getTime());
      assert.equal(st('setuid').mode & 0o7777, 0o4755);
      assert.equal(st('sticky').mode & 0o7777, 0o1777);
      assert.equal(st('sticky').mtime.getTime(), mtime.getTime(), 'directory times are set after their contents');
      assert.equal(st('sticky/hard').ino, st('owned').ino, 'a hard link');
      assert.equal(readlinkSync(join(root, 'rel-link')), 'owned');
      assert.equal(readlinkSync(join(root, 'abs-link')), '/etc/passwd', 'an absolute symlink is kept as it is, not followed');
      assert.equal(st('abs-link').uid, 7);
      assert.ok(st('null').isCharacterDevice());
      assert.equal(st('null').rdev, statSync('/dev/null').rdev);
      assert.ok(st('fifo').isFIFO());
      assert.equal(st('fifo').mode & 0o7777, 0o600);
      await cache.remove(r.digest);
    });

    test('extended attributes from pax SCHILY.xattr records are set (skipped without error where the file system has none)', { skip: missing('python3') }, async (t) => {
      const img = await layout([{ entries: [{ name: 'with-xattr', content: 'x', pax: { 'SCHILY.xattr.user.berth': 'yes' } }] }]);
      const r = await cache.import(img.layout);
      const path = join((await f().driver.info('image', r.template)).path, 'with-xattr');
      const read = (): string => execFileSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode(), end="")', path, 'user.berth'], { encoding: 'utf8', stdio: 'pipe' });
      if (f().xattrs) assert.equal(read(), 'yes');
      else {
        t.diagnostic('this file system has no xattrs: the import succeeded without them');
        assert.throws(read, /Operation not supported/);
      }
      await cache.remove(r.digest);
    });

    test('multi-platform nested index: the host platform by default, another with --platform, a missing one refused', async () => {
      const dir = join(work.path, 'multi');
      mkdirSync(dir);
      const img = await buildOciLayout(dir, {
        nested: true,
        images: [
          { layers: [{ entries: [{ name: 'arch', content: 'amd64' }] }], platform: { os: 'linux', architecture: 'amd64' } },
          { layers: [{ entries: [{ name: 'arch', content: 'arm64' }] }], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      });
      const host = await cache.import(img.layout);
      assert.equal(host.digest, img.manifests[0]!.digest);
      const arm = await cache.import(img.layout, { platform: 'linux/arm64' });
      assert.equal(arm.digest, img.manifests[1]!.digest);
      assert.deepEqual(arm.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
      assert.equal(readFileSync(join((await f().driver.info('image', arm.template)).path, 'arch'), 'utf8'), 'arm64');
      await assert.rejects(cache.import(img.layout, { platform: 'linux/s390x' }), (err: unknown) => err instanceof ImageError && /no image for linux\/s390x/.test(err.message));
      await cache.remove(host.digest);
      await cache.remove(arm.digest);
    });

    test('Docker v2 schema 2 media types are read like OCI ones', async () => {
      const dir = join(work.path, 'docker');
      mkdirSync(dir);
      const img = await buildOciLayout(dir, { docker: true, images: [{ layers: [{ entries: [{ name: 'docker', content: 'yes' }], compression: 'gzip' }] }] });
      const r = await cache.import(img.layout);
      assert.equal(readFileSync(join((await f().driver.info('image', r.template)).path, 'docker'), 'utf8'), 'yes');
      await cache.remove(r.digest);
      await assertNothingLeft('after docker');
    });

    describe('malicious layers are refused, naming the entry; nothing escapes the rootfs and nothing is left', () => {
      const canaryDir = (): string => join(work.path, 'canary');
      const canaryFile = (): string => join(canaryDir(), 'canary');
      const up = '../'.repeat(30);
      const cases: Array<{ name: string; entry: string; layers: () => TarEntrySpec[][] }> = [
        { name: '../ traversal', entry: `${up}CANARY/evil`, layers: () => [[{ name: `${up}${canaryDir().slice(1)}/evil`, content: 'pwned' }]] },
        { name: 'an absolute path', entry: `${canaryDir()}/evil`, layers: () => [[{ name: `${canaryDir()}/evil`, content: 'pwned' }]] },
        {
          name: 'a symlink to outside, then a file through it (same layer)',
          entry: 'esc/evil',
          layers: () => [[{ name: 'esc', type: 'symlink', linkname: canaryDir() }, { name: 'esc/evil', content: 'pwned' }]],
        },
        {
          name: 'a symlink planted by an earlier layer, written through by a later one',
          entry: 'esc/canary',
          layers: () => [[{ name: 'esc', type: 'symlink', linkname: `${up}${canaryDir().slice(1)}` }], [{ name: 'esc/canary', content: 'pwned' }]],
        },
        {
          name: 'a directory replaced by a symlink, then written through',
          entry: 'd/evil',
          layers: () => [[{ name: 'd/', type: 'directory' }, { name: 'd/ok', content: 'ok' }], [{ name: 'd', type: 'symlink', linkname: canaryDir() }, { name: 'd/evil', content: 'pwned' }]],
        },
        { name: 'a hard link to a file outside', entry: 'hl', layers: () => [[{ name: 'hl', type: 'link', linkname: `${up}${canaryFile().slice(1)}` }]] },
        { name: 'a hard link to an absolute path', entry: 'hl', layers: () => [[{ name: 'hl', type: 'link', linkname: canaryFile() }]] },
        {
          name: 'a hard link through a symlinked directory',
          entry: 'hl',
          layers: () => [[{ name: 'esc', type: 'symlink', linkname: canaryDir() }, { name: 'hl', type: 'link', linkname: 'esc/canary' }]],
        },
        {
          name: 'a whiteout through a symlinked directory',
          entry: 'esc/.wh.canary',
          layers: () => [[{ name: 'esc', type: 'symlink', linkname: canaryDir() }], [{ name: 'esc/.wh.canary' }]],
        },
      ];
      for (const c of cases) {
        test(c.name, async () => {
          rmSync(canaryDir(), { recursive: true, force: true });
          mkdirSync(canaryDir());
          writeFileSync(canaryFile(), 'canary');
          const img = await layout(c.layers().map((entries) => ({ entries })));
          await assert.rejects(cache.import(img.layout), (err: unknown) => {
            assert.ok(err instanceof ImageError, `ImageError, got ${String(err)}`);
            const entry = c.entry.replace('CANARY', canaryDir().slice(1));
            assert.ok(err.message.includes(`"${entry}"`), `names the entry ${entry}: ${err.message}`);
            return true;
          });
          assert.deepEqual(readdirSync(canaryDir()), ['canary'], 'nothing written next to the canary');
          assert.equal(readFileSync(canaryFile(), 'utf8'), 'canary', 'the canary is intact');
          assert.equal(lstatSync(canaryFile()).nlink, 1, 'no hard link to the canary');
          await assertNothingLeft(c.name);
        });
      }
      test('a symlink to a file outside is replaced, not written through, by a later file entry', async () => {
        rmSync(canaryDir(), { recursive: true, force: true });
        mkdirSync(canaryDir());
        writeFileSync(canaryFile(), 'canary');
        const img = await layout([{ entries: [{ name: 'f', type: 'symlink', linkname: canaryFile() }] }, { entries: [{ name: 'f', content: 'mine' }] }]);
        const r = await cache.import(img.layout);
        assert.equal(readFileSync(canaryFile(), 'utf8'), 'canary');
        const path = join((await f().driver.info('image', r.template)).path, 'f');
        assert.ok(lstatSync(path).isFile());
        assert.equal(readFileSync(path, 'utf8'), 'mine');
        await cache.remove(r.digest);
        await assertNothingLeft('after replacing a symlink');
      });
    });

    describe('bad input: a clear error and nothing left', () => {
      async function expectImageError(source: string, pattern: RegExp): Promise<void> {
        await assert.rejects(cache.import(source, { name: 'bad:1' }), (err: unknown) => {
          assert.ok(err instanceof ImageError, `ImageError, got ${String(err)}`);
          assert.match(err.message, pattern);
          return true;
        });
        await assertNothingLeft(String(pattern));
      }

      test('a layer whose content does not match its digest (same size)', async () => {
        const img = await layout([{ entries: [{ name: 'a', content: 'a'.repeat(1000) }], compression: 'none' }]);
        const blob = img.blobPath(img.layers[0]![0]!.digest);
        const data = readFileSync(blob);
        data[600] = data[600]! ^ 0xff;
        writeFileSync(blob, data);
        await expectImageError(img.layout, /digest mismatch/);
      });

      test('a missing blob', async () => {
        const img = await layout([{ entries: [{ name: 'a', content: 'a' }] }]);
        rmSync(img.blobPath(img.layers[0]![0]!.digest));
        await expectImageError(img.layout, /is missing from/);
      });

      test('an unknown layer media type', async () => {
        const img = await layout([{ entries: [{ name: 'a', content: 'a' }], mediaType: 'application/x-squashfs' }]);
        await expectImageError(img.layout, /unknown media type "application\/x-squashfs"/);
      });

      test('a truncated gzip layer (its descriptor and digest made to match the cut blob)', async () => {
        // A gzip cut short whose digest is right: only the decompressor can notice.
        const dir = join(work.path, `trunc-${++counter}`);
        mkdirSync(dir);
        const full = await buildOciLayout(dir, { images: [{ layers: [{ entries: [{ name: 'big', content: Buffer.alloc(200_000, 7) }, { name: 'z', content: 'z' }] }] }] });
        const desc = full.layers[0]![0]!;
        const blob = full.blobPath(desc.digest);
        truncateSync(blob, Math.floor(desc.size / 2));
        const { createHash } = await import('node:crypto');
        const cut = readFileSync(blob);
        const digest = 'sha256:' + createHash('sha256').update(cut).digest('hex');
        writeFileSync(full.blobPath(digest), cut);
        rmSync(blob);
        // Rewrite the manifest with the cut blob's digest and size.
        const mdesc = full.manifests[0]!;
        const manifest = JSON.parse(readFileSync(full.blobPath(mdesc.digest), 'utf8')) as { layers: Array<{ digest: string; size: number }> };
        manifest.layers[0] = { ...manifest.layers[0]!, digest, size: cut.length };
        const mdata = Buffer.from(JSON.stringify(manifest));
        const mdigest = 'sha256:' + createHash('sha256').update(mdata).digest('hex');
        writeFileSync(full.blobPath(mdigest), mdata);
        writeFileSync(join(full.layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...mdesc, digest: mdigest, size: mdata.length }] }));
        await expectImageError(full.layout, /cannot be unpacked: .*(unexpected end|premature)/i);
      });

      test('a gzip layer with a damaged tail: a digest mismatch, said before any gzip or tar error', async () => {
        const img = await layout([{ entries: [{ name: 'big', content: Buffer.from(Array.from({ length: 60_000 }, (_, i) => (i * 7919) % 251)) }, { name: 'z', content: 'z' }] }]);
        const blob = img.blobPath(img.layers[0]![0]!.digest);
        const data = readFileSync(blob);
        for (let i = data.length - 300; i < data.length - 20; i++) data[i] = data[i]! ^ 0x5a; // same size, tail damaged
        writeFileSync(blob, data);
        await assert.rejects(cache.import(img.layout), (err: unknown) => {
          assert.ok(err instanceof ImageError, `ImageError, got ${String(err)}`);
          assert.match(err.message, new RegExp(`^layer ${img.layers[0]![0]!.digest} in .*: digest mismatch`));
          assert.doesNotMatch(err.message, /Invalid tar header|incorrect|invalid/);
          return true;
        });
        await assertNothingLeft('damaged tail');
      });

      test('an entry name of 4 KB: a short error line that names it in part', async () => {
        const long = 'n'.repeat(4096);
        const img = await layout([{ entries: [{ name: long, content: 'x' }] }]);
        await assert.rejects(cache.import(img.layout), (err: unknown) => {
          assert.ok(err instanceof ImageError, `ImageError, got ${String(err)}`);
          assert.ok(err.message.length < 600, `${err.message.length} bytes: ${err.message.slice(0, 300)}…`);
          assert.match(err.message, /n{100}…n{50}.*\(4096 bytes\)/);
          return true;
        });
        await assertNothingLeft('4 KB name');
      });

      test('the unpacking cap ([storage] max_image_size): a gzip bomb stops at the cap, named with its key; nothing is left', async () => {
        const capped = await openImageCache({ storage: { ...f().storage, max_image_size: 4 * 1024 * 1024 }, stateDir: f().stateDir });
        // 64 MiB of zeros, about 64 KiB of gzip: refused once 4 MiB would be passed.
        const bomb = await layout([{ entries: [{ name: 'small', content: 'a'.repeat(1000) }, { name: 'bomb', content: Buffer.alloc(64 * 1024 * 1024) }] }]);
        await assert.rejects(capped.import(bomb.layout), (err: unknown) => {
          assert.ok(err instanceof ImageError, `ImageError, got ${String(err)}`);
          assert.match(err.message, /entry "bomb" would take the unpacked image past its cap of 4\.0 MiB/);
          assert.match(err.message, /Raise \[storage\] max_image_size in the berth config/);
          return true;
        });
        await assertNothingLeft('capped import');
        // Under the cap, the same cache imports (the cap counts file data across all layers).
        const fits = await layout([{ entries: [{ name: 'a', content: Buffer.alloc(2 * 1024 * 1024) }] }, { entries: [{ name: 'b', content: Buffer.alloc(1024 * 1024) }] }]);
        const r = await capped.import(fits.layout);
        await capped.remove(r.digest);
        await assertNothingLeft('an import under the cap');
      });

      test('not an OCI layout: an empty directory, a random file', async () => {
        const empty = join(work.path, `empty-${++counter}`);
        mkdirSync(empty);
        await expectImageError(empty, /not an OCI image layout: no oci-layout file/);
        const junk = join(work.path, `junk-${counter}.tar`);
        writeFileSync(junk, Buffer.alloc(4096, 1));
        await expectImageError(junk, /not an OCI layout archive/);
      });

      test('an image config for another platform than its index says', async () => {
        const dir = join(work.path, `plat-${++counter}`);
        mkdirSync(dir);
        const img = await buildOciLayout(dir, { images: [{ layers: [{ entries: [{ name: 'a', content: 'a' }] }], platform: { os: 'linux', architecture: 'arm64' } }] });
        // The index entry loses its platform: only the config can tell.
        const index = JSON.parse(readFileSync(join(img.layout, 'index.json'), 'utf8')) as { manifests: Array<{ platform?: unknown }> };
        delete index.manifests[0]!.platform;
        writeFileSync(join(img.layout, 'index.json'), JSON.stringify(index));
        await expectImageError(img.layout, /is for linux\/arm64/);
      });
    });
  });
}
