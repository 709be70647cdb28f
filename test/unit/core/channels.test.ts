// core/channels: outcomes reach every subscriber, and none after it unsubscribes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publishOperation, subscribeOperations, type OperationOutcome } from '../../../src/core/channels.js';

test('published outcomes reach subscribers until they unsubscribe', () => {
  const o: OperationOutcome = { op: 'start', id: 'c', backend: 'crun', result: 'ok', code: undefined, durationS: 0.1, time: new Date().toISOString() };
  publishOperation(o); // no subscriber: nothing happens
  const seen: OperationOutcome[] = [];
  const off = subscribeOperations((x) => seen.push(x));
  publishOperation(o);
  off();
  publishOperation(o);
  assert.deepEqual(seen, [o]);
});
