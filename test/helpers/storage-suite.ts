// What every storage driver must do, as a user of the driver sees it: one suite, run against
// each real driver (zfs on a zfs-fuse pool, dir in a temp dir).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidArgumentError, NewerSnapshotsError, StorageError, VolumeExistsError, VolumeNotFoundError } from '../../src/core/errors.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { buildTemplate } from '../../src/storage/template-build.js';
import { makeBusyboxRootfs } from './bundle.js';

export interface StorageFixture {
  driver: StorageDriver;
  /** What the driver still holds besides its empty layout (datasets, directories); [] when clean. */
  leftovers(): Promise<string[]>;
}

const DIGEST = 'sha256:' + 'ab'.repeat(32);

export function storageSuite(label: string, fixture: () => StorageFixture): void {
  describe(`storage driver contract: ${label}`, () => {
    const d = (): StorageDriver => fixture().driver;

    test('a template: create, fill with a busybox rootfs, seal; properties and listing', async () => {
      const path = await d().createTemplate(DIGEST, { digest: DIGEST, ref: 'localhost/busybox:1' });
      makeBusyboxRootfs(path);
      let info = await d().info('image', DIGEST);
      assert.equal(info.sealed, false, 'not sealed before sealTemplate');
      await d().sealTemplate(DIGEST);
      info = await d().info('image', DIGEST);
      assert.equal(info.path, path);
      assert.equal(info.sealed, true);
      assert.equal(info.origin, undefined);
      assert.deepEqual(info.properties, { digest: DIGEST, ref: 'localhost/busybox:1' });
      assert.ok(existsSync(join(info.path, 'bin/busybox')));
      assert.deepEqual((await d().list('image')).map((v) => v.name), [DIGEST]);
      assert.equal(await d().exists('image', DIGEST), true);
      assert.equal(await d().exists('image', 'sha256:other'), false);
      await assert.rejects(d().sealTemplate(DIGEST), VolumeExistsError, 'sealing twice is refused');
      await assert.rejects(d().createTemplate(DIGEST), VolumeExistsError);
    });

    test('two container volumes from the template are independent of each other and of it', async () => {
      const a = await d().cloneTemplate(DIGEST, 'ctr-a', { image: DIGEST });
      const b = await d().cloneTemplate(DIGEST, 'ctr-b');
      for (const id of ['ctr-a', 'ctr-b']) {
        const info = await d().info('container', id);
        assert.equal(info.origin, DIGEST, `${id} comes from the template`);
      }
      assert.deepEqual((await d().info('container', 'ctr-a')).properties, { image: DIGEST });
      assert.deepEqual((await d().info('container', 'ctr-b')).properties, {});
      assert.deepEqual(readFileSync(join(a, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
      writeFileSync(join(a, 'etc/passwd'), 'changed in a\n');
      writeFileSync(join(a, 'only-in-a'), 'x');
      assert.equal(readFileSync(join(b, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n', 'b unchanged');
      assert.equal(existsSync(join(b, 'only-in-a')), false);
      const template = (await d().info('image', DIGEST)).path;
      assert.equal(readFileSync(join(template, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n', 'template unchanged');
      assert.deepEqual((await d().list('container')).map((v) => v.name).sort(), ['ctr-a', 'ctr-b']);
      await assert.rejects(d().cloneTemplate(DIGEST, 'ctr-a'), VolumeExistsError);
    });

    test('user properties round-trip: set, change, remove', async () => {
      await d().setProperties('container', 'ctr-a', { ref: 'localhost/busybox:1', note: 'a value with spaces, "quotes" and a:colon' });
      assert.deepEqual((await d().info('container', 'ctr-a')).properties, {
        image: DIGEST,
        ref: 'localhost/busybox:1',
        note: 'a value with spaces, "quotes" and a:colon',
      });
      await d().setProperties('container', 'ctr-a', { ref: 'localhost/busybox:2', note: undefined });
      assert.deepEqual((await d().info('container', 'ctr-a')).properties, { image: DIGEST, ref: 'localhost/busybox:2' });
      await assert.rejects(d().setProperties('container', 'ctr-a', { 'Bad Key': 'x' }), InvalidArgumentError);
      await assert.rejects(d().setProperties('container', 'ctr-a', { ok: 'line\nbreak' }), InvalidArgumentError);
      await assert.rejects(d().setProperties('container', 'nope', { ok: 'x' }), VolumeNotFoundError);
    });

    test('snapshot and rollback restore the files; later snapshots are refused unless discarded', async () => {
      const path = (await d().info('container', 'ctr-b')).path;
      writeFileSync(join(path, 'state'), 'one');
      await d().snapshot('ctr-b', 'one');
      writeFileSync(join(path, 'state'), 'two');
      await d().snapshot('ctr-b', 'two');
      writeFileSync(join(path, 'state'), 'three');
      writeFileSync(join(path, 'extra'), 'x');
      assert.deepEqual((await d().listSnapshots('ctr-b')).map((s) => s.name), ['one', 'two']);
      await assert.rejects(d().snapshot('ctr-b', 'one'), VolumeExistsError);

      await d().rollback('ctr-b', 'two');
      assert.equal(readFileSync(join(path, 'state'), 'utf8'), 'two');
      assert.equal(existsSync(join(path, 'extra')), false);

      await assert.rejects(d().rollback('ctr-b', 'one'), (err: unknown) => err instanceof NewerSnapshotsError && /later snapshots exist \(two\)/.test(err.message) && err.newer.join() === 'two');
      await d().rollback('ctr-b', 'one', { discardNewer: true });
      assert.equal(readFileSync(join(path, 'state'), 'utf8'), 'one');
      assert.deepEqual((await d().listSnapshots('ctr-b')).map((s) => s.name), ['one']);

      await assert.rejects(d().rollback('ctr-b', 'never'), VolumeNotFoundError);
      await d().destroySnapshot('ctr-b', 'one');
      assert.deepEqual(await d().listSnapshots('ctr-b'), []);
      await assert.rejects(d().destroySnapshot('ctr-b', 'one'), VolumeNotFoundError);
    });

    test('rename keeps the files and the origin', async () => {
      await d().rename('container', 'ctr-a', 'ctr-a2');
      assert.equal(await d().exists('container', 'ctr-a'), false);
      const info = await d().info('container', 'ctr-a2');
      assert.equal(info.origin, DIGEST);
      assert.equal(readFileSync(join(info.path, 'only-in-a'), 'utf8'), 'x');
      await assert.rejects(d().rename('container', 'ctr-a2', 'ctr-b'), VolumeExistsError);
      await assert.rejects(d().rename('container', 'nope', 'nope2'), VolumeNotFoundError);
    });

    test('usage and free space are byte counts', async () => {
      const u = await d().usage('container', 'ctr-b');
      assert.ok(Number.isSafeInteger(u.used) && u.used >= 0, `used ${u.used}`);
      assert.ok(u.referenced > 1_000_000, `the clone refers to the busybox binary: ${u.referenced}`);
      const s = await d().space();
      assert.ok(s.used > 1_000_000 && s.available > 10_000_000, JSON.stringify(s));
    });

    test('errors name what is wrong', async () => {
      await assert.rejects(d().cloneTemplate('sha256:missing', 'ctr-x'), (err: unknown) => err instanceof VolumeNotFoundError && /template "sha256:missing" does not exist/.test(err.message));
      await d().createTemplate('unsealed');
      await assert.rejects(d().cloneTemplate('unsealed', 'ctr-x'), (err: unknown) => err instanceof VolumeNotFoundError && /template "unsealed" is not sealed/.test(err.message));
      await d().destroy('image', 'unsealed');
      await assert.rejects(d().cloneTemplate(DIGEST, 'a+b'), (err: unknown) => err instanceof InvalidArgumentError && err.message.includes('"a+b"'));
      await assert.rejects(d().createTemplate('../escape'), InvalidArgumentError);
      await assert.rejects(d().snapshot('ctr-b', 'bad/name'), InvalidArgumentError);
      await assert.rejects(d().destroy('image', DIGEST), (err: unknown) => err instanceof StorageError && /still has container volumes/.test(err.message));
      await assert.rejects(d().destroy('container', 'never'), VolumeNotFoundError);
      await assert.rejects(d().info('container', 'never'), VolumeNotFoundError);
      assert.equal(await d().exists('container', 'ctr-x'), false, 'failed clones left nothing');
    });

    test('a template build that fails leaves nothing', async () => {
      await assert.rejects(
        buildTemplate(d(), 'broken', { digest: 'sha256:broken' }, async (path) => {
          writeFileSync(join(path, 'half'), 'x');
          throw new Error('layer 2 is corrupt');
        }),
        (err: unknown) => err instanceof StorageError && /cannot fill template "broken".*layer 2 is corrupt/.test(err.message),
      );
      assert.equal(await d().exists('image', 'broken'), false);
      const path = await buildTemplate(d(), 'built', {}, async (p) => writeFileSync(join(p, 'hello'), 'hi'));
      assert.equal((await d().info('image', 'built')).sealed, true);
      assert.equal(readFileSync(join(path, 'hello'), 'utf8'), 'hi');
      await d().destroy('image', 'built');
    });

    test('destroying everything leaves nothing behind', async () => {
      await d().snapshot('ctr-b', 'last');
      for (const id of ['ctr-a2', 'ctr-b']) await d().destroy('container', id);
      await d().destroy('image', DIGEST);
      assert.deepEqual(await d().list('container'), []);
      assert.deepEqual(await d().list('image'), []);
      assert.deepEqual(await fixture().leftovers(), []);
    });
  });
}
