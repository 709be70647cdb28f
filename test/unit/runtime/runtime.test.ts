// Runtime against a fake backend (implementing the real Backend interface): capabilities are
// consulted before the backend is called.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../../../src/backends/backend.js';
import { UnsupportedError } from '../../../src/core/errors.js';
import { readProcStat } from '../../../src/core/proc.js';
import { Runtime } from '../../../src/runtime/runtime.js';
import { makeBusyboxBundle, tempDir } from '../../helpers/bundle.js';
import { createContainer } from '../../../src/runtime/container-create.js';
import { join } from 'node:path';

function fakeBackend(calls: string[]): Backend {
  const note = (op: string) => async () => void calls.push(op);
  return {
    name: 'crun',
    capabilities: { exec: false, pause: false, update: false, ps: false, consoleSocket: false },
    create: note('create'),
    start: note('start'),
    runForeground: async () => 0,
    kill: note('kill'),
    delete: note('delete'),
    pause: note('pause'),
    resume: note('resume'),
    exec: async () => (calls.push('exec'), 0),
    ps: async () => (calls.push('ps'), []),
    update: note('update'),
    version: async () => 'fake',
    features: async () => undefined,
  };
}

/** A running container c1 whose "init" is this test process. */
async function recordRunning(runtime: Runtime, dir: string): Promise<void> {
  const lock = await runtime.store.lockForCreate('c1');
  runtime.store.write({
    version: 1, id: 'c1', backend: 'crun', backendReason: 'test', bundle: dir, rootfs: dir,
    created: new Date().toISOString(), owner: 'root', annotations: {},
    pid: process.pid, pidStartTime: readProcStat(process.pid)!.startTime, started: true,
  });
  lock.release();
}

test('operations a backend does not declare fail with BERTH_ERR_UNSUPPORTED, before the backend is called', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const runtime = new Runtime({ root: tmp.path, debug: false, systemdCgroup: false, runtimeOverride: undefined, configPath: '/dev/null' });
  const calls: string[] = [];
  (runtime as unknown as { backends: Map<string, Promise<Backend>> }).backends.set('crun', Promise.resolve(fakeBackend(calls)));
  await recordRunning(runtime, tmp.path);
  for (const op of [() => runtime.pause('c1'), () => runtime.ps('c1'), () => runtime.update('c1', '{}'),
    () => runtime.exec({ id: 'c1', processFile: undefined, args: ['true'], detach: false, pidFile: undefined, tty: false, consoleSocket: undefined, env: [], cwd: undefined, preserveFds: 0 })]) {
    await assert.rejects(op(), (err: unknown) => err instanceof UnsupportedError && /backend crun cannot/.test(err.message));
  }
  assert.deepEqual(calls, []);
  await runtime.kill('c1', { number: 0, name: '0' }, false);
  assert.deepEqual(calls, ['kill'], 'kill needs no capability');
});

test('each observed operation publishes one outcome; with journal on, it lands in <root>/@berth/journal', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const { subscribeOperations } = await import('../../../src/core/channels.js');
  const { JournalReader, detachJournal } = await import('../../../src/telemetry/journal.js');
  // The journal subscription is process-wide: without this, later tests' outcomes recreate tmp.
  t.after(() => detachJournal(tmp.path));
  const seen: { op: string; id: string; backend: string | undefined; result: string; code: string | undefined }[] = [];
  const off = subscribeOperations((o) => {
    assert.ok(o.durationS >= 0 && !Number.isNaN(Date.parse(o.time)));
    seen.push({ op: o.op, id: o.id, backend: o.backend, result: o.result, code: o.code });
  });
  t.after(off);
  const runtime = new Runtime({ root: tmp.path, debug: false, systemdCgroup: false, runtimeOverride: undefined, configPath: '/dev/null', journal: true });
  const calls: string[] = [];
  (runtime as unknown as { backends: Map<string, Promise<Backend>> }).backends.set('crun', Promise.resolve(fakeBackend(calls)));
  await recordRunning(runtime, tmp.path);
  await runtime.kill('c1', { number: 0, name: '0' }, false);
  await assert.rejects(runtime.pause('c1'));
  await assert.rejects(runtime.delete('nope', false));
  await runtime.state('c1'); // reads are not observed
  await runtime.list();
  const expected = [
    { op: 'kill', id: 'c1', backend: 'crun', result: 'ok', code: undefined },
    { op: 'pause', id: 'c1', backend: 'crun', result: 'error', code: 'BERTH_ERR_UNSUPPORTED' },
    { op: 'delete', id: 'nope', backend: undefined, result: 'error', code: 'BERTH_ERR_NOT_FOUND' },
  ];
  assert.deepEqual(seen, expected);
  const { records, corrupt } = new JournalReader(runtime.stateDir).scan();
  assert.equal(corrupt, 0);
  assert.deepEqual(records.map((r) => ({ op: r.op, id: r.id, backend: r.backend, result: r.result, code: r.code })), expected);
});

test("stop uses a backend's own stop when it has one, with the timeout; no signal is sent", async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const runtime = new Runtime({ root: tmp.path, debug: false, systemdCgroup: false, runtimeOverride: undefined, configPath: '/dev/null' });
  const calls: string[] = [];
  const backend: Backend = { ...fakeBackend(calls), stop: async (id, timeoutS) => void calls.push(`stop ${id} ${timeoutS}`) };
  (runtime as unknown as { backends: Map<string, Promise<Backend>> }).backends.set('crun', Promise.resolve(backend));
  await recordRunning(runtime, tmp.path);
  await runtime.stop('c1', 7);
  assert.deepEqual(calls, ['stop c1 7']);
});

test('a stdio of its own (a shim\'s FIFOs) is refused by a backend that does not declare it, before anything is made', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const bundle = makeBusyboxBundle(join(tmp.path, 'bundle'));
  const runtime = new Runtime({ root: join(tmp.path, 'root'), debug: false, systemdCgroup: false, runtimeOverride: 'crun-cli', configPath: '/dev/null' });
  const calls: string[] = [];
  const backend: Backend = { ...fakeBackend(calls), name: 'crun-cli', capabilities: { exec: true, pause: false, update: false, ps: false, consoleSocket: false } };
  (runtime as unknown as { backends: Map<string, Promise<Backend>> }).backends.set('crun-cli', Promise.resolve(backend));
  const stdio = { stdin: 0, stdout: 1, stderr: 2 };
  const opts = { id: 'c2', bundle, image: undefined, pidFile: undefined, consoleSocket: undefined, noPivot: false, noNewKeyring: false, preserveFds: 0, stdio };
  await assert.rejects(createContainer(runtime, opts), (err: unknown) => err instanceof UnsupportedError && /backend crun-cli cannot give container "c2" a stdio of its own/.test(err.message));
  assert.deepEqual(calls, []);
  assert.equal(runtime.store.read('c2'), undefined, 'no record left');
});
