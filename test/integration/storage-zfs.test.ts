// The zfs storage driver on a real zfs-fuse pool (a sparse file in a temp dir; the daemon is
// started here if none runs, and then stopped by its PID): the shared driver contract, then what
// only zfs does — origins, read-only templates, quotas, busy retries, missing and full pools —
// and a real container whose rootfs is a clone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errnoCode, StorageError, StorageFullError } from '../../src/core/errors.js';
import { buildTemplate } from '../../src/storage/template-build.js';
import { ZfsCli } from '../../src/storage/zfs/zfs-cli.js';
import { ZfsDriver } from '../../src/storage/zfs/zfs-driver.js';
import { berth } from '../helpers/berth.js';
import { busyboxConfig, makeBusyboxRootfs, tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { storageSuite } from '../helpers/storage-suite.js';
import { closeZfsRig, createTestPool, datasetsUnder, openZfsRig, zfsSkipReason, type TestPool, type ZfsDaemon } from '../helpers/zfs.js';

const skip = zfsSkipReason();
let daemon: ZfsDaemon | undefined;
let pool: TestPool | undefined;
let driver: ZfsDriver;
const pools: TestPool[] = [];

if (!skip) {
  before(async () => void ({ daemon, pool, driver } = await openZfsRig(pools)));
  after(() => closeZfsRig(daemon, pools));
}

describe('zfs storage', { skip }, () => {
  storageSuite('zfs', () => ({ driver, leftovers: () => datasetsUnder(driver.cli, driver.location) }));

  describe('zfs specifics', () => {
    const tpl = 'sha256:' + 'cd'.repeat(32);

    test('a clone is a ZFS clone of images/<name>@template; properties are berth:* user properties', async (t) => {
      assert.deepEqual(driver.capabilities, { clones: true, snapshots: true, quotas: true });
      const cli = driver.cli;
      const P = driver.location;
      let t0 = performance.now();
      const path = await driver.createTemplate(tpl, { digest: tpl, ref: 'localhost/busybox:zfs' });
      const createMs = performance.now() - t0;
      makeBusyboxRootfs(path);
      t0 = performance.now();
      await driver.sealTemplate(tpl);
      const sealMs = performance.now() - t0;
      t0 = performance.now();
      const c1 = await driver.cloneTemplate(tpl, 'zc1');
      const cloneMs = performance.now() - t0;
      t0 = performance.now();
      await driver.snapshot('zc1', 's');
      const snapMs = performance.now() - t0;
      t0 = performance.now();
      await driver.destroySnapshot('zc1', 's');
      const rmSnapMs = performance.now() - t0;
      t.diagnostic(`ms: createTemplate ${createMs.toFixed(1)}, sealTemplate ${sealMs.toFixed(1)}, cloneTemplate ${cloneMs.toFixed(1)}, snapshot ${snapMs.toFixed(1)}, destroySnapshot ${rmSnapMs.toFixed(1)}`);

      assert.equal(await cli.getOne(`${P}/containers/zc1`, 'origin'), `${P}/images/${tpl}@template`);
      assert.equal(await cli.getOne(`${P}/images/${tpl}`, 'berth:digest'), tpl);
      assert.equal(await cli.getOne(`${P}/images/${tpl}`, 'berth:ref'), 'localhost/busybox:zfs');
      assert.equal(await cli.getOne(`${P}/containers/zc1`, 'berth:digest'), undefined, 'user properties are not copied into clones');
      assert.equal(await cli.getOne(`${P}/containers/zc1`, 'mountpoint'), c1);
      assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${c1} `), 'the clone is mounted');
      // A clone takes no space of its own until written.
      assert.ok((await driver.usage('container', 'zc1')).used < 512 * 1024);
      // A sealed template is read-only for real.
      assert.throws(() => writeFileSync(join(path, 'new'), 'x'), (err: unknown) => errnoCode(err) === 'EROFS');
    });

    test('quota: writes beyond it fail; removing it lifts the limit', async () => {
      const c = (await driver.info('container', 'zc1')).path;
      await driver.setQuota('zc1', 8 * 1024 * 1024);
      assert.equal(await driver.cli.getOne(`${driver.location}/containers/zc1`, 'refquota'), String(8 * 1024 * 1024));
      assert.throws(() => writeFileSync(join(c, 'big'), Buffer.alloc(16 * 1024 * 1024, 1)), (err: unknown) => ['EDQUOT', 'ENOSPC'].includes(errnoCode(err) ?? '') || (err as { errno?: number }).errno === -122 /* EDQUOT, which libuv names UNKNOWN */);
      await driver.setQuota('zc1', undefined);
      assert.equal(await driver.cli.getOne(`${driver.location}/containers/zc1`, 'refquota'), '0');
    });

    test('destroy retries while the dataset is busy, and gives up with the tool’s words', async (t) => {
      const c = (await driver.info('container', 'zc1')).path;
      // A process whose cwd is inside the clone keeps the unmount busy until it exits.
      const holder = spawn('sleep', ['30'], { cwd: c, stdio: 'ignore' });
      await new Promise((r) => holder.once('spawn', r));
      try {
        const impatient = new ZfsDriver({ dataset: driver.location, cli: new ZfsCli({ busyDelaysMs: [20, 20] }) });
        await assert.rejects(impatient.destroy('container', 'zc1'), (err: unknown) => {
          assert.ok(err instanceof StorageError, String(err));
          assert.match(err.message, /busy/);
          assert.match(err.message, /still busy after 3 tries/);
          assert.ok(err.message.includes(`${driver.location}/containers/zc1`));
          return true;
        });
        assert.equal(await driver.exists('container', 'zc1'), true, 'nothing destroyed');
        // The default backoff outlasts a holder that goes away.
        setTimeout(() => holder.kill('SIGKILL'), 300);
        const t0 = performance.now();
        await driver.destroy('container', 'zc1');
        t.diagnostic(`destroy of a busy clone succeeded after ${(performance.now() - t0).toFixed(0)} ms`);
      } finally {
        holder.kill('SIGKILL');
      }
      assert.equal(await driver.exists('container', 'zc1'), false);
    });

    test('a real container runs on a clone', { skip: missing('crun', 'busybox') }, async () => {
      const rootfs = await driver.cloneTemplate(tpl, 'zrun');
      const other = await driver.cloneTemplate(tpl, 'zother');
      const tmp = tempDir('berth-zfs-run-');
      try {
        const bundle = join(tmp.path, 'bundle');
        mkdirSync(bundle);
        const config = busyboxConfig({ args: ['sh', '-c', 'echo written-inside > /from-container; cat /etc/passwd'] });
        config.root = { path: rootfs, readonly: false };
        writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
        const r = await berth(['--root', join(tmp.path, 'root'), 'run', '--bundle', bundle, 'zfs-run-1']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'root:x:0:0:root:/root:/bin/sh\n');
        assert.equal(readFileSync(join(rootfs, 'from-container'), 'utf8'), 'written-inside\n');
        assert.equal(existsSync(join(other, 'from-container')), false, 'the other clone is untouched');
      } finally {
        tmp.remove();
        await driver.destroy('container', 'zrun');
        await driver.destroy('container', 'zother');
      }
      await driver.destroy('image', tpl);
      assert.deepEqual(await datasetsUnder(driver.cli, driver.location), []);
    });

    test('a missing pool or parent dataset is a clear error that names it', async () => {
      const noPool = new ZfsDriver({ dataset: 'berth-no-such-pool/berth' });
      await assert.rejects(noPool.createTemplate('x'), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.match(err.message, /^storage dataset "berth-no-such-pool\/berth" does not exist: there is no pool "berth-no-such-pool" \(imported pools: .*berthtest-/);
        return true;
      });
      const noParent = new ZfsDriver({ dataset: `${pool!.name}/not-made` });
      await assert.rejects(noParent.list('image'), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.equal(err.message, `storage dataset "${pool!.name}/not-made" does not exist in pool "${pool!.name}": create it with "zfs create -p ${pool!.name}/not-made"`);
        return true;
      });
      assert.equal(await driver.cli.exists(`${pool!.name}/not-made`), false, 'berth never makes the parent itself');
    });

    test('a full pool: clear errors, and nothing left behind', async () => {
      const small = await createTestPool(daemon!.cli, '64M');
      pools.push(small);
      const P = `${small.name}/berth`;
      await small.cli.create(P);
      const full = new ZfsDriver({ dataset: P });
      const avail = (await full.space()).available;
      // A template bigger than the pool.
      await assert.rejects(
        buildTemplate(full, 'huge', { digest: 'sha256:huge' }, async (p) => writeFileSync(join(p, 'blob'), Buffer.alloc(avail + 8 * 1024 * 1024, 1))),
        (err: unknown) => {
          assert.ok(err instanceof StorageFullError, String(err));
          assert.match(err.message, /cannot fill template "huge": no space left in /);
          return true;
        },
      );
      assert.deepEqual(await datasetsUnder(small.cli, P), [], 'the half-filled template is destroyed');
      // A small template, then the pool filled up outside berth's volumes: new volumes fail.
      await buildTemplate(full, 'tiny', {}, async (p) => writeFileSync(join(p, 'hello'), 'hi'));
      try {
        writeFileSync(join(small.mountpoint, 'berth', 'filler'), Buffer.alloc(avail + 8 * 1024 * 1024, 2));
      } catch (err) {
        assert.equal(errnoCode(err), 'ENOSPC');
      }
      await assert.rejects(full.createTemplate('another'), (err: unknown) => {
        assert.ok(err instanceof StorageFullError, String(err));
        assert.match(err.message, new RegExp(`cannot create template "another" .*pool "${small.name}" is out of space`));
        return true;
      });
      const cloned = await full.cloneTemplate('tiny', 'c').then(
        () => 'cloned',
        (err: unknown) => {
          assert.ok(err instanceof StorageFullError, String(err));
          return 'refused';
        },
      );
      if (cloned === 'cloned') await full.destroy('container', 'c');
      await full.destroy('image', 'tiny');
      assert.deepEqual(await datasetsUnder(small.cli, P), [], `nothing left (the clone was ${cloned})`);
      await small.destroy();
    });
  });
});
