import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, editDistance, nearest } from '../../../src/core/suggest.js';

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('state', 'state'), 0);
  assert.equal(editDistance('staet', 'state'), 1);
  assert.equal(editDistance('creat', 'create'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kill', 'list'), 3);
});

test('nearest: typos are found, unrelated words are not', () => {
  const verbs = ['create', 'start', 'state', 'delete', 'kill', 'list', 'exec', 'snapshot', 'image'];
  assert.deepEqual(nearest('stae', verbs), ['state']);
  assert.deepEqual(nearest('delte', verbs), ['delete']);
  // One edit from two verbs: both are offered.
  assert.deepEqual(nearest('staet', verbs), ['start', 'state']);
  assert.deepEqual(nearest('snapshto', verbs), ['snapshot']);
  assert.deepEqual(nearest('IMAGE', verbs), ['image']);
  assert.deepEqual(nearest('stat', verbs), ['start', 'state']);
  assert.deepEqual(nearest('frobnicate', verbs), []);
  // Short words need an exact-ish match: one edit at most.
  assert.deepEqual(nearest('xy', ['ps', 'rm']), []);
});

test('didYouMean renders the suggestions, or nothing', () => {
  assert.equal(didYouMean('bundel', ['bundle', 'pid-file'], (s) => `--${s}`), '; did you mean --bundle?');
  assert.equal(didYouMean('stat', ['start', 'state']), '; did you mean "start" or "state"?');
  assert.equal(didYouMean('zzzzzz', ['start']), '');
});
