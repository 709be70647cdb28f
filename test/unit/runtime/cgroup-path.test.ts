import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cgroupName, chosenCgroupsPath } from '../../../src/runtime/cgroup-path.js';

/** What a systemd unit name may hold (and so a cgroup directory too). */
const UNIT_SAFE = /^[A-Za-z0-9_.-]+$/;

describe('the cgroup berth picks', () => {
  test('cgroupfs and systemd forms carry the root id', () => {
    assert.equal(chosenCgroupsPath('0123456789', 'web-1', false), '/berth-0123456789/web-1');
    assert.equal(chosenCgroupsPath('0123456789', 'web-1', true), 'system.slice:berth-0123456789:web-1');
  });

  test('plain ids are used as they are', () => {
    for (const id of ['c1', 'web-1', 'a.b_c', 'X'.repeat(100)]) assert.equal(cgroupName(id), id);
  });

  test('other ids become one safe component, distinct for distinct ids', () => {
    const ids = ['a:b', 'a@b', 'a+b', 'é', '_c1', 'x'.repeat(101), 'x'.repeat(1024), 'a b', 'a/b', '..', 'a\u0000b', 'ü'.repeat(512), '_a_b-0000000000000000'];
    const names = ids.map(cgroupName);
    for (const [i, n] of names.entries()) {
      assert.match(n, UNIT_SAFE, `${JSON.stringify(ids[i])} → ${n}`);
      assert.ok(n.startsWith('_'), `hashed names start with "_", which no plain name does: ${n}`);
      assert.ok(Buffer.byteLength(n) <= 100, n);
      assert.notEqual(n, '.');
      assert.notEqual(n, '..');
    }
    assert.equal(new Set(names).size, ids.length, 'no two ids share a name');
    // A plain id that looks like a hashed name cannot start with "_": it is hashed too.
    assert.notEqual(cgroupName('_a_b-0000000000000000'), '_a_b-0000000000000000');
    assert.equal(cgroupName('a:b'), cgroupName('a:b'), 'stable');
  });
});
