// The blob store's resumable put (blob-store.ts) with a fake registry: a partial file resumed
// from its end, a registry that ignores Range, a whole partial stored without a request, a body
// that breaks off resumed at once, a digest mismatch removing everything.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { ImageError } from '../../../src/core/errors.js';
import { BlobStore } from '../../../src/images/registry/blob-store.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-blob-store-');
after(() => tmp.remove());
const data = randomBytes(200_000);
const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
let n = 0;
const fresh = (): BlobStore => new BlobStore(`${tmp.path}/s${++n}`);

/** A body that sends `bytes`, then fails as a reset connection does. */
function breaking(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(bytes);
      setTimeout(() => this.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), 20);
    },
  });
}

function partial(store: BlobStore, bytes: Buffer): void {
  mkdirSync(store.partial, { recursive: true });
  writeFileSync(store.partialPath(digest), bytes);
}

describe('BlobStore.put', () => {
  test('a partial file is resumed from its end with the offset asked; the whole is verified', async () => {
    const store = fresh();
    partial(store, data.subarray(0, 70_000));
    const asked: number[] = [];
    await store.put(digest, data.length, async (offset) => (asked.push(offset), { body: Readable.from([data.subarray(offset)]), start: offset }), 'layer');
    assert.deepEqual(asked, [70_000]);
    assert.deepEqual(readFileSync(store.path(digest)), data);
    assert.equal(existsSync(store.partialPath(digest)), false);
    assert.deepEqual(readdirSync(store.tmp), []);
  });

  test('a registry that answers the whole blob (no Range): written from the start', async () => {
    const store = fresh();
    partial(store, data.subarray(0, 70_000));
    await store.put(digest, data.length, async () => ({ body: Readable.from([data]), start: 0 }), 'layer');
    assert.deepEqual(readFileSync(store.path(digest)), data);
  });

  test('a whole partial is stored without a request; a wrong whole one is fetched again', async () => {
    let store = fresh();
    partial(store, data);
    await store.put(digest, data.length, async () => assert.fail('no request for a whole partial'), 'layer');
    assert.deepEqual(readFileSync(store.path(digest)), data);
    store = fresh();
    partial(store, randomBytes(data.length));
    const asked: number[] = [];
    await store.put(digest, data.length, async (offset) => (asked.push(offset), { body: Readable.from([data]), start: 0 }), 'layer');
    assert.deepEqual(asked, [0]);
    assert.deepEqual(readFileSync(store.path(digest)), data);
  });

  test('a body that breaks off is resumed at once from what arrived', async () => {
    const store = fresh();
    const asked: number[] = [];
    await store.put(digest, data.length, async (offset) => {
      asked.push(offset);
      return offset === 0 ? { body: breaking(data.subarray(0, 50_000)), start: 0 } : { body: Readable.from([data.subarray(offset)]), start: offset };
    }, 'layer');
    assert.deepEqual(asked, [0, 50_000]);
    assert.deepEqual(readFileSync(store.path(digest)), data);
  });

  test('a digest mismatch after a resume removes the partial bytes and stores nothing', async () => {
    const store = fresh();
    partial(store, randomBytes(70_000));
    await assert.rejects(
      store.put(digest, data.length, async (offset) => ({ body: Readable.from([data.subarray(offset)]), start: offset }), 'layer X'),
      (e: unknown) => e instanceof ImageError && /layer X: digest mismatch/.test(e.message),
    );
    assert.equal(existsSync(store.path(digest)), false);
    assert.equal(existsSync(store.partialPath(digest)), false);
    assert.deepEqual(readdirSync(store.tmp), []);
  });
});
