// Storage drivers opened through the registry publish each operation that changes storage
// (driver, op, result, duration) on core/channels; reads are not counted. Real dir driver.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { subscribeStorageOperations, type StorageOperation } from '../../../src/core/channels.js';
import { openStorage } from '../../../src/storage/registry.js';
import { tempDir } from '../../helpers/bundle.js';

test('the dir driver from openStorage publishes its operations, failures included', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const seen: StorageOperation[] = [];
  t.after(subscribeStorageOperations((e) => seen.push(e)));
  const driver = await openStorage({ driver: 'dir', dir: join(tmp.path, 'storage') });
  assert.equal(driver.name, 'dir');
  const path = await driver.createTemplate('img1');
  writeFileSync(join(path, 'hello'), 'hi');
  await driver.sealTemplate('img1');
  await driver.cloneTemplate('img1', 'c1');
  assert.equal(await driver.exists('container', 'c1'), true);
  await driver.list('image');
  await assert.rejects(driver.cloneTemplate('nosuch', 'c2'), (e: any) => e.code === 'BERTH_ERR_NOT_FOUND');
  await driver.destroy('container', 'c1');
  assert.deepEqual(
    seen.map((e) => [e.driver, e.op, e.result]),
    [
      ['dir', 'createTemplate', 'ok'],
      ['dir', 'sealTemplate', 'ok'],
      ['dir', 'cloneTemplate', 'ok'],
      ['dir', 'cloneTemplate', 'error'],
      ['dir', 'destroy', 'ok'],
    ],
  );
  assert.ok(seen.every((e) => e.durationS >= 0 && e.durationS < 60));
});
