import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSnapshotName } from '../../../src/runtime/container-snapshots.js';

test('default snapshot names: the time to the millisecond, and a free name when it is taken (issue 19)', () => {
  const at = '2026-12-03T16-50-01.123Z';
  assert.equal(defaultSnapshotName([], '2026-12-03T16:50:01.123Z'), at);
  // Two snapshots in one second no longer collide.
  assert.notEqual(defaultSnapshotName([], '2026-12-03T16:50:01.123Z'), defaultSnapshotName([], '2026-12-03T16:50:01.456Z'));
  assert.equal(defaultSnapshotName([at], '2026-12-03T16:50:01.123Z'), `${at}-2`);
  assert.equal(defaultSnapshotName([at, `${at}-2`], '2026-12-03T16:50:01.123Z'), `${at}-3`);
  assert.match(defaultSnapshotName([]), /^[0-9A-Za-z_.:-]{1,200}$/, 'a valid snapshot name');
});
