// The dir storage driver on a real directory: the shared driver contract, then what only a
// plain copy must get right (ownership, modes, hard links, device nodes, symlinks).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { StorageFullError, UnsupportedError } from '../../src/core/errors.js';
import { DirDriver } from '../../src/storage/dir/dir-driver.js';
import { buildTemplate } from '../../src/storage/template-build.js';
import { tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { storageSuite } from '../helpers/storage-suite.js';

const tmp = tempDir('berth-storage-dir-');
after(() => tmp.remove());
const driver = new DirDriver({ dir: join(tmp.path, 'storage') });

function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

storageSuite('dir', () => ({
  driver,
  leftovers: async () => [...entries(join(driver.location, 'images')).map((n) => `images/${n}`), ...entries(join(driver.location, 'containers')).map((n) => `containers/${n}`)],
}));

describe('dir driver specifics', { skip: missing('busybox') }, () => {
  test('declares no clones and no quotas', async () => {
    assert.deepEqual(driver.capabilities, { clones: false, snapshots: true, quotas: false });
    await assert.rejects(driver.setQuota('x', 1), UnsupportedError);
  });

  test('a copy keeps ownership, modes, timestamps, symlinks, hard links and device nodes', async () => {
    await buildTemplate(driver, 'special', {}, async (p) => {
      writeFileSync(join(p, 'owned'), 'x');
      chownSync(join(p, 'owned'), 1234, 5678);
      writeFileSync(join(p, 'setuid'), '#!/bin/sh\n');
      chmodSync(join(p, 'setuid'), 0o4755);
      mkdirSync(join(p, 'sticky'));
      chmodSync(join(p, 'sticky'), 0o1777);
      writeFileSync(join(p, 'linked'), 'shared');
      linkSync(join(p, 'linked'), join(p, 'hardlink'));
      symlinkSync('/etc/does-not-matter', join(p, 'abs-link'));
      symlinkSync('linked', join(p, 'rel-link'));
      execFileSync('mknod', [join(p, 'null'), 'c', '1', '3']);
      execFileSync('mkfifo', [join(p, 'fifo')]);
    });
    const c = await driver.cloneTemplate('special', 'special-ctr');
    const st = (n: string) => lstatSync(join(c, n));
    assert.equal(st('owned').uid, 1234);
    assert.equal(st('owned').gid, 5678);
    assert.equal(st('setuid').mode & 0o7777, 0o4755);
    assert.equal(st('sticky').mode & 0o7777, 0o1777);
    assert.equal(st('linked').ino, st('hardlink').ino, 'hard link kept as a hard link');
    assert.equal(st('linked').nlink, 2);
    assert.equal(readlinkSync(join(c, 'abs-link')), '/etc/does-not-matter', 'absolute symlink copied, not followed');
    assert.equal(readlinkSync(join(c, 'rel-link')), 'linked');
    assert.ok(st('null').isCharacterDevice());
    assert.equal(st('null').rdev, statSync('/dev/null').rdev);
    assert.ok(st('fifo').isFIFO());
    const tpl = (await driver.info('image', 'special')).path;
    assert.equal(st('owned').mtimeMs, lstatSync(join(tpl, 'owned')).mtimeMs, 'timestamps kept');
    await driver.destroy('container', 'special-ctr');
    await driver.destroy('image', 'special');
  });

  test('a full file system: clear error and nothing left', { skip: process.getuid?.() === 0 ? undefined : 'mounting a tmpfs needs root' }, async () => {
    const small = join(tmp.path, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small]);
    try {
      const tiny = new DirDriver({ dir: join(small, 'storage') });
      await assert.rejects(
        buildTemplate(tiny, 'big', {}, async (p) => writeFileSync(join(p, 'blob'), Buffer.alloc(8 * 1024 * 1024))),
        (err: unknown) => err instanceof StorageFullError && err.message.includes('"big"') && err.message.includes('no space left'),
      );
      assert.deepEqual(readdirSync(join(small, 'storage/images')), [], 'the half-filled template is gone');
      // A copy that does not fit: a 3 MB template, cloned once (fits? no: 6 MB > 4 MB).
      await buildTemplate(tiny, 'three', {}, async (p) => writeFileSync(join(p, 'blob'), Buffer.alloc(3 * 1024 * 1024, 1)));
      await assert.rejects(tiny.cloneTemplate('three', 'c'), (err: unknown) => err instanceof StorageFullError && err.message.includes('container volume "c"'));
      assert.deepEqual(readdirSync(join(small, 'storage/containers')), [], 'the half-made copy is gone');
      await tiny.destroy('image', 'three');
    } finally {
      execFileSync('umount', [small]);
    }
  });
});
