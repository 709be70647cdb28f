import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptRecordError, InternalError } from '../../../src/core/errors.js';
import type { Lock } from '../../../src/core/lock.js';
import { ContainerStore, type ContainerRecord } from '../../../src/runtime/container-store.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-store-test-');
after(() => tmp.remove());

let n = 0;
function freshStore(): ContainerStore {
  return new ContainerStore(join(tmp.path, `root${n++}`));
}

function record(id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    version: 1,
    id,
    backend: 'runc',
    backendReason: 'config route #1 (id_glob "web-*")',
    bundle: '/srv/bundles/x',
    rootfs: '/srv/bundles/x/rootfs',
    created: '2024-05-01T10:00:00.123Z',
    owner: 'root',
    annotations: { 'org.opencontainers.image.stopSignal': 'QUIT', 'a/b': 'ü' },
    ...extra,
  };
}

const tick = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe('ContainerStore records', () => {
  test('write then read gives the same record back', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    try {
      const r = record('c1', { pid: 1234, pidStartTime: 99, started: true, paused: false });
      store.write(r);
      assert.deepEqual(store.read('c1'), r);
      const again = { ...r, paused: true };
      store.write(again);
      assert.deepEqual(store.read('c1'), again);
    } finally {
      lock.release();
    }
  });

  test('records live at <root>/containers/<id>/record.json, mode 0600, as JSON', async () => {
    const store = freshStore();
    assert.equal(store.containersDir, join(store.root, 'containers'));
    assert.equal(store.dir('c1'), join(store.root, 'containers', 'c1'));
    const lock = await store.lockForCreate('c1');
    lock.release();
    store.write(record('c1'));
    const path = join(store.root, 'containers/c1/record.json');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(store.dir('c1')).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), record('c1'));
  });

  test('an atomic write leaves no temp file', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    lock.release();
    for (let i = 0; i < 20; i++) store.write(record('c1', { pid: i + 1 }));
    assert.deepEqual(readdirSync(store.dir('c1')), ['record.json']);
    assert.equal(store.read('c1')?.pid, 20);
  });

  test('reading a container that does not exist gives undefined', async () => {
    const store = freshStore();
    assert.equal(store.read('nope'), undefined, 'no containers dir at all');
    const lock = await store.lockForCreate('empty');
    lock.release();
    assert.equal(store.read('empty'), undefined, 'a directory without record');
    writeFileSync(join(store.containersDir, 'afile'), 'x');
    assert.equal(store.read('afile'), undefined, 'a file where the directory should be');
  });

  test('a corrupt record is an InternalError naming the file', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    lock.release();
    writeFileSync(join(store.dir('c1'), 'record.json'), '{"version":1,');
    assert.throws(
      () => store.read('c1'),
      (err: unknown) => err instanceof InternalError && err.message.includes(join(store.dir('c1'), 'record.json')) && err.message.includes('corrupt') && err.cause instanceof SyntaxError,
    );
  });

  test('records of version 1 (0.8.0) and 2 are read as written; another version is refused, naming the file', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    lock.release();
    const v1 = record('c1', { image: { ref: 'bb:1', digest: 'sha256:' + 'a'.repeat(64), volume: 'c1' } });
    store.write(v1);
    assert.deepEqual(store.read('c1'), v1);
    const v2 = record('c1', {
      version: 2,
      image: { ref: 'bb:1', digest: 'sha256:' + 'a'.repeat(64), volume: '0123456789-c1', storage: { driver: 'zfs', location: 'tank/berth' }, rootId: '0123456789' },
    });
    store.write(v2);
    assert.deepEqual(store.read('c1'), v2);
    writeFileSync(join(store.dir('c1'), 'record.json'), JSON.stringify({ ...v2, version: 3 }));
    assert.throws(
      () => store.read('c1'),
      (err: unknown) => err instanceof InternalError && err.message.includes(join(store.dir('c1'), 'record.json')) && /its version is 3: this berth reads versions 1 and 2/.test(err.message),
    );
  });

  test('a record of the wrong shape is refused naming the field and the way out; readAll sets it apart', async () => {
    const store = freshStore();
    const cases: Array<[string, string, RegExp]> = [
      ['null', 'null', /it holds null, not a record/],
      ['array', '[]', /it holds object, not a record/],
      ['pid', JSON.stringify({ ...record('c1'), pid: 'abc' }), /pid is "abc", not a positive integer/],
      ['negative pid', JSON.stringify({ ...record('c1'), pid: -3 }), /pid is -3, not a positive integer/],
      ['no backend', JSON.stringify({ ...record('c1'), backend: undefined }), /backend is missing, not a backend name/],
      ['other id', JSON.stringify({ ...record('c1'), id: 'c2' }), /it names container "c2", not "c1"/],
      ['started', JSON.stringify({ ...record('c1'), started: 'yes' }), /started is "yes", not true or false/],
    ];
    for (const [what, text, why] of cases) {
      const lock = await store.lockForCreate('c1');
      lock.release();
      writeFileSync(join(store.dir('c1'), 'record.json'), text);
      assert.throws(
        () => store.read('c1'),
        (err: unknown) => err instanceof CorruptRecordError && err.id === 'c1' && why.test(err.message) && err.message.endsWith('`berth delete --force c1` removes the container and what its backend keeps of it'),
        what,
      );
    }
    (await store.lockForCreate('c2')).release();
    store.write(record('c2'));
    const all = store.readAll();
    assert.deepEqual(all.records.map((r) => r.id), ['c2']);
    assert.deepEqual(all.unreadable.map((e) => e.id), ['c1']);
  });

  test('removeRecord keeps the directory; remove takes everything', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    lock.release();
    store.write(record('c1'));
    writeFileSync(join(store.dir('c1'), 'init.pid'), '1');
    store.removeRecord('c1');
    assert.equal(store.read('c1'), undefined);
    assert.deepEqual(readdirSync(store.dir('c1')), ['init.pid']);
    store.removeRecord('c1'); // again: no error
    store.remove('c1');
    assert.equal(existsSync(store.dir('c1')), false);
    store.remove('c1'); // again: no error
  });
});

describe('ContainerStore.ids', () => {
  test('empty when there is no containers directory', () => {
    assert.deepEqual(freshStore().ids(), []);
  });

  test('sorted, without dot entries', async () => {
    const store = freshStore();
    for (const id of ['web-2', 'db', 'web-10', 'a']) (await store.lockForCreate(id)).release();
    mkdirSync(join(store.containersDir, '.trash'));
    writeFileSync(join(store.containersDir, '.x.tmp-1'), '');
    assert.deepEqual(store.ids(), ['a', 'db', 'web-10', 'web-2']);
  });
});

describe('ContainerStore.removeStaleTemps', () => {
  test('removes only the temp files of atomic writes', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    lock.release();
    store.write(record('c1'));
    const dir = store.dir('c1');
    for (const name of ['.record.json.tmp-12345', '.record.json.tmp-1', 'init.pid', '.keep', 'notes.tmp-1']) writeFileSync(join(dir, name), 'x');
    store.removeStaleTemps('c1');
    assert.deepEqual(readdirSync(dir).sort(), ['.keep', 'init.pid', 'notes.tmp-1', 'record.json']);
    assert.deepEqual(store.read('c1'), record('c1'));
  });

  test('a missing container is not an error', () => {
    assert.doesNotThrow(() => freshStore().removeStaleTemps('nope'));
  });
});

describe('ContainerStore locks', () => {
  test('lockForCreate makes the directory, then finds it', async () => {
    const store = freshStore();
    const first = await store.lockForCreate('c1');
    assert.ok(statSync(store.dir('c1')).isDirectory());
    first.release();
    const second = await store.lockForCreate('c1');
    assert.ok(statSync(store.dir('c1')).isDirectory());
    second.release();
  });

  test('lock of a container that does not exist gives undefined and creates nothing', async () => {
    const store = freshStore();
    assert.equal(await store.lock('nope'), undefined);
    assert.equal(existsSync(store.containersDir), false);
  });

  test('two lock holders in one process are serialized', async () => {
    const store = freshStore();
    const events: string[] = [];
    const a = await store.lockForCreate('c1');
    events.push('a locked');
    let bLocked = false;
    const b = store.lock('c1').then((lock) => {
      bLocked = true;
      events.push('b locked');
      return lock;
    });
    await tick(100);
    assert.equal(bLocked, false, 'the second holder waits while the first holds the lock');
    events.push('a released');
    a.release();
    const lockB = await b;
    assert.ok(lockB);
    assert.deepEqual(events, ['a locked', 'a released', 'b locked']);
    lockB.release();
  });

  test('lockForCreate waits for lock, and lock waits for lockForCreate', async () => {
    const store = freshStore();
    const a = await store.lockForCreate('c1');
    let second: Lock | undefined;
    const pending = store.lockForCreate('c1').then((r) => (second = r));
    await tick(80);
    assert.equal(second, undefined);
    a.release();
    const b = await pending;

    let third = false;
    const p3 = store.lock('c1').then((l) => ((third = true), l));
    await tick(80);
    assert.equal(third, false);
    b.release();
    (await p3)!.release();
  });

  test('a holder waiting on a directory that gets removed gives undefined', async () => {
    const store = freshStore();
    const a = await store.lockForCreate('c1');
    const waiting = store.lock('c1');
    await tick(50);
    store.remove('c1');
    a.release();
    assert.equal(await waiting, undefined);
  });

  test('lockForCreate on a directory removed while waiting makes it again', async () => {
    const store = freshStore();
    const a = await store.lockForCreate('c1');
    const waiting = store.lockForCreate('c1');
    await tick(50);
    store.remove('c1');
    a.release();
    const b = await waiting;
    assert.ok(statSync(store.dir('c1')).isDirectory());
    b.release();
  });

  test('a released lock can be taken again at once', async () => {
    const store = freshStore();
    (await store.lockForCreate('c1')).release();
    for (let i = 0; i < 5; i++) {
      const l = await store.lock('c1');
      assert.ok(l);
      l.release();
    }
  });

  test('locks of different containers do not conflict', async () => {
    const store = freshStore();
    const a = await store.lockForCreate('a');
    const b = await Promise.race([store.lockForCreate('b'), tick(1000).then(() => undefined)]);
    assert.ok(b, 'lock of b was not blocked by a');
    b.release();
    a.release();
  });

  test('the containers directory itself is made with mode 0700', async () => {
    const store = freshStore();
    (await store.lockForCreate('c1')).release();
    assert.equal(statSync(store.containersDir).mode & 0o777, 0o700);
    rmSync(store.root, { recursive: true });
  });
});

describe('hollow container directories (what a killed create or delete leaves)', () => {
  test('a directory without a record, holding nothing of value, is removed under its lock', async () => {
    const store = freshStore();
    for (const [id, files] of [['empty', []], ['leftovers', ['backend-config.json', 'init.pid', `.record.json.tmp-${process.pid}`]], ['other', ['intent.json']]] as const) {
      mkdirSync(store.dir(id), { recursive: true });
      for (const f of files) writeFileSync(join(store.dir(id), f), '{}');
    }
    const { recordless } = store.readAll();
    assert.deepEqual(recordless, ['empty', 'leftovers', 'other']);
    for (const id of recordless) await store.sweepHollow(id);
    // A file berth does not know is kept: it may be another part's.
    assert.deepEqual(store.ids(), ['other']);
  });

  test('a directory whose lock is held (a create filling it in) is left alone', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('busy');
    try {
      assert.equal(await store.sweepHollow('busy'), false);
      assert.ok(existsSync(store.dir('busy')));
    } finally {
      lock.release();
    }
    assert.equal(await store.sweepHollow('busy'), true);
    assert.equal(existsSync(store.dir('busy')), false);
  });

  test('a directory with a record is never hollow', async () => {
    const store = freshStore();
    const lock = await store.lockForCreate('c1');
    store.write(record('c1'));
    lock.release();
    assert.equal(await store.sweepHollow('c1'), false);
    assert.deepEqual(store.ids(), ['c1']);
  });
});
