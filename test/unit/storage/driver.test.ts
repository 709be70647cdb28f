import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, InvalidConfigError } from '../../../src/core/errors.js';
import { validateProperties, validatePropertyKey, validateVolumeName } from '../../../src/storage/driver.js';
import { openStorage, openStorageAt, STORAGE_DRIVER_NAMES } from '../../../src/storage/registry.js';

describe('volume and property names', () => {
  test('names that every ZFS and every file system accept', () => {
    for (const ok of ['c1', 'sha256:' + 'a'.repeat(64), 'web_1.prod-2', 'A', '_x']) assert.equal(validateVolumeName(ok), ok);
    for (const bad of ['', '.hidden', '-flag', 'a/b', '..', 'a b', 'a+b', 'a@b', 'é', 'x'.repeat(201)]) {
      assert.throws(() => validateVolumeName(bad), (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(JSON.stringify(bad)), bad);
    }
    assert.throws(() => validateVolumeName('a/b', 'snapshot name'), /^InvalidArgumentError: snapshot name "a\/b"/);
  });

  test('property keys and values', () => {
    assert.equal(validatePropertyKey('digest'), 'digest');
    for (const bad of ['Digest', '1x', 'a:b', '', 'x'.repeat(65)]) assert.throws(() => validatePropertyKey(bad), InvalidArgumentError, bad);
    validateProperties({ ref: 'localhost/busybox:1', gone: undefined });
    for (const bad of ['', '-', 'a\nb', 'tab\there', 'x'.repeat(1025)]) assert.throws(() => validateProperties({ k: bad }), InvalidArgumentError, JSON.stringify(bad));
  });
});

describe('storage registry', () => {
  test('known drivers, loaded lazily, capabilities as data', async () => {
    assert.deepEqual([...STORAGE_DRIVER_NAMES].sort(), ['dir', 'zfs']);
    const dir = await openStorage({ driver: 'dir', dir: '/var/lib/berth/storage' });
    assert.equal(dir.name, 'dir');
    assert.equal(dir.location, '/var/lib/berth/storage');
    assert.deepEqual(dir.capabilities, { clones: false, snapshots: true, quotas: false });
    const zfs = await openStorage({ driver: 'zfs', dataset: 'tank/berth', dir: '/unused' });
    assert.equal(zfs.name, 'zfs');
    assert.equal(zfs.location, 'tank/berth');
    assert.deepEqual(zfs.capabilities, { clones: true, snapshots: true, quotas: true });
  });

  test('zfs without a dataset, or an unknown driver, is a config error, never a fallback', async () => {
    await assert.rejects(openStorage({ driver: 'zfs', dir: '/x' }), InvalidConfigError);
    await assert.rejects(openStorage({ driver: 'btrfs' as 'dir', dir: '/x' }), (err: unknown) => err instanceof InvalidConfigError && /unknown storage driver "btrfs"/.test(err.message));
  });

  test('openStorageAt opens the storage a record names, and refuses a recorded location that is not one', async () => {
    const dir = await openStorageAt({ driver: 'dir', location: '/var/lib/berth/other' });
    assert.deepEqual([dir.name, dir.location], ['dir', '/var/lib/berth/other']);
    const zfs = await openStorageAt({ driver: 'zfs', location: 'tank/other' });
    assert.deepEqual([zfs.name, zfs.location], ['zfs', 'tank/other']);
    const bad: [unknown, RegExp][] = [
      [{ driver: 'dir', location: 'relative/dir' }, /not an absolute directory/],
      [{ driver: 'dir', location: '/var/../etc' }, /not an absolute directory/],
      [{ driver: 'zfs', location: 'tank/../x' }, /not a ZFS dataset name/],
      [{ driver: 'zfs', location: '/tank' }, /not a ZFS dataset name/],
      [{ driver: 'zfs', location: 'tank@snap' }, /not a ZFS dataset name/],
      [{ driver: 'btrfs', location: '/x' }, /unknown storage driver \(known drivers: dir, zfs\)/],
    ];
    for (const [where, message] of bad) {
      await assert.rejects(
        openStorageAt(where as { driver: 'dir'; location: string }),
        (err: unknown) => err instanceof InvalidConfigError && err.message.startsWith(`recorded storage ${JSON.stringify(where)} is not usable`) && message.test(err.message),
        JSON.stringify(where),
      );
    }
  });
});
