import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeCgroupEverywhere } from '../../../src/core/cgroup-remove.js';
import { tempDir } from '../../helpers/bundle.js';

test('removeCgroupEverywhere removes the cgroup and its children in every hierarchy given, and only it', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const a = join(tmp.path, 'cpu');
  const b = join(tmp.path, 'unified');
  for (const h of [a, b]) {
    mkdirSync(join(h, 'berth-r1', 'c1', 'lxc.pivot'), { recursive: true });
    mkdirSync(join(h, 'berth-r1', 'c2'), { recursive: true });
  }
  // Plain directories stand for cgroups here (a real one is removed by rmdir with its files).
  const r = await removeCgroupEverywhere('/berth-r1/c1', [a, b]);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(r.removed.sort(), [join(a, 'berth-r1/c1'), join(a, 'berth-r1/c1/lxc.pivot'), join(b, 'berth-r1/c1'), join(b, 'berth-r1/c1/lxc.pivot')].sort());
  for (const h of [a, b]) {
    assert.equal(existsSync(join(h, 'berth-r1', 'c1')), false);
    assert.equal(existsSync(join(h, 'berth-r1', 'c2')), true, 'another container of the root stays');
  }
});

test('removeCgroupEverywhere refuses a path that is a hierarchy root or climbs out', async () => {
  await assert.rejects(removeCgroupEverywhere('/', []), /refusing/);
  await assert.rejects(removeCgroupEverywhere('/berth-r1/../x', []), /refusing/);
});
