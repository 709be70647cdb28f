// The image cache over the zfs driver on a real zfs-fuse pool (started here if none runs, then
// stopped by its PID): the shared suite (clones checked by their `origin`), then a pool too small
// for the image and a pool that does not exist.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { StorageError, StorageFullError } from '../../src/core/errors.js';
import { openImageCache } from '../../src/images/index.js';
import { ZfsDriver } from '../../src/storage/zfs/zfs-driver.js';
import { tempDir } from '../helpers/bundle.js';
import { imageCacheSuite, stateLeftovers } from '../helpers/image-suite.js';
import { buildOciLayout } from '../helpers/oci-image.js';
import { closeZfsRig, createTestPool, datasetsUnder, openZfsRig, zfsSkipReason, type TestPool, type ZfsDaemon } from '../helpers/zfs.js';

const skip = zfsSkipReason();
let daemon: ZfsDaemon | undefined;
let driver: ZfsDriver;
const pools: TestPool[] = [];
const tmp = tempDir('berth-images-zfs-');

if (!skip) {
  before(async () => void ({ daemon, driver } = await openZfsRig(pools)));
  after(async () => {
    try {
      await closeZfsRig(daemon, pools);
    } finally {
      tmp.remove();
    }
  });
} else {
  after(() => tmp.remove());
}

describe('images on zfs', { skip }, () => {
  imageCacheSuite('zfs', () => ({
    storage: { driver: 'zfs', dataset: driver.location, dir: '/unused' },
    driver,
    stateDir: join(tmp.path, 'state'),
    xattrs: false, // zfs-fuse 0.7 answers ENOTSUP
    leftovers: () => datasetsUnder(driver.cli, driver.location),
    zfsOrigin: (volume) => driver.cli.getOne(`${driver.location}/containers/${volume}`, 'origin'),
    unmount: async (kind, name) => {
      const ds = driver.dataset(kind, name);
      await driver.cli.unmount(ds);
      return () => driver.cli.mount(ds);
    },
  }));

  test('a pool too small for the image: BERTH_ERR_STORAGE_FULL, no dataset, index entry or lock left', async () => {
    const small = await createTestPool(daemon!.cli, '64M');
    pools.push(small);
    await daemon!.cli.create(`${small.name}/berth`);
    const work = join(tmp.path, 'full');
    mkdirSync(work);
    // 96 MB of incompressible file data in one layer (gzip keeps it at about that size).
    const { randomBytes } = await import('node:crypto');
    const img = await buildOciLayout(work, { images: [{ layers: [{ entries: [1, 2, 3].map((i) => ({ name: `r${i}`, content: randomBytes(32 * 1024 * 1024) })), compression: 'none' }] }] });
    const stateDir = join(tmp.path, 'state-full');
    const cache = await openImageCache({ storage: { driver: 'zfs', dataset: `${small.name}/berth`, dir: '/unused' }, stateDir });
    await assert.rejects(cache.import(img.layout, { name: 'big:1' }), (err: unknown) => {
      assert.ok(err instanceof StorageFullError, `StorageFullError, got ${String(err)}`);
      assert.match(err.message, /no space left/);
      return true;
    });
    const smallDriver = new ZfsDriver({ dataset: `${small.name}/berth` });
    assert.deepEqual(await datasetsUnder(smallDriver.cli, smallDriver.location), []);
    assert.deepEqual(stateLeftovers(stateDir), []);
    assert.deepEqual(await cache.list(), []);
    await small.destroy();
  });

  test('a pool that does not exist: BERTH_ERR_STORAGE naming it, nothing left in the state dir', async () => {
    const stateDir = join(tmp.path, 'state-missing');
    const cache = await openImageCache({ storage: { driver: 'zfs', dataset: 'berth-no-such-pool/berth', dir: '/unused' }, stateDir });
    const dir = join(tmp.path, 'missing-pool');
    mkdirSync(dir);
    const img = await buildOciLayout(dir, { images: [{ layers: [{ entries: [{ name: 'a', content: 'a' }] }] }] });
    await assert.rejects(cache.import(img.layout), (err: unknown) => err instanceof StorageError && /no pool "berth-no-such-pool"/.test(err.message));
    assert.deepEqual(stateLeftovers(stateDir), []);
  });
});
