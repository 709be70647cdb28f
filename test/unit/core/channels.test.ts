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

test('each channel only reaches its own subscribers', async () => {
  const c = await import('../../../src/core/channels.js');
  const storage: unknown[] = [];
  const images: unknown[] = [];
  const offs = [c.subscribeStorageOperations((m) => storage.push(m)), c.subscribeImageCache((m) => images.push(m))];
  c.publishStorageOperation({ driver: 'zfs', op: 'clone', result: 'ok', durationS: 0.01 });
  c.publishImageCache({ result: 'hit', digest: 'sha256:00' });
  for (const off of offs) off();
  c.publishImageCache({ result: 'miss', digest: 'sha256:00' });
  assert.deepEqual(storage, [{ driver: 'zfs', op: 'clone', result: 'ok', durationS: 0.01 }]);
  assert.deepEqual(images, [{ result: 'hit', digest: 'sha256:00' }]);
});
