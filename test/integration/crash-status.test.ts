// berth killed between a backend call and the record's write (issue 14, item 5): at a named point
// (BERTH_TEST_CRASH_AT, core/crash-point.ts) and by a SIGKILL of its whole process group while
// crun is mid-create. The next verb finds the truth: a started container is running (so exec and
// pause work), and delete --force removes the cgroups crun left.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { berthInBackground, cleanUp } from '../helpers/berth-bg.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { missing } from '../helpers/host.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const skip = missing('crun', 'runc');
const tmp = tempDir('berth-crash-status-');
after(() => tmp.remove());

const crashAt = (point: string): NodeJS.ProcessEnv => ({ ...process.env, BERTH_TEST_CRASH_AT: point });

function record(root: string, id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(berthStateDir(root), 'containers', id, 'record.json'), 'utf8')) as Record<string, unknown>;
}

describe('status after a crash between the backend call and the record write', { skip }, () => {
  for (const runtime of ['crun-cli', 'runc']) {
    test(`${runtime}: run -d killed right after the backend started it: state, list and exec see it running; the next locked verb records it`, async () => {
      const root = join(tmp.path, `root-run-${runtime}`);
      const bundle = makeBusyboxBundle(join(tmp.path, `run-${runtime}`));
      const r = await berth(['--root', root, '--runtime', runtime, 'run', '-d', '--bundle', bundle, 'c1'], { env: crashAt('after-backend-start') });
      assert.equal(r.code, null, `berth killed itself: ${r.stderr}`);
      assert.equal(record(root, 'c1').started, undefined, 'the record was not written after the start');
      assert.equal(JSON.parse(await berthOk(root, ['state', 'c1'])).status, 'running');
      assert.equal(JSON.parse(await berthOk(root, ['list', '--format', 'json']))[0].status, 'running');
      assert.equal((await berth(['--root', root, 'exec', 'c1', 'true'])).code, 0);
      await berthOk(root, ['pause', 'c1']);
      assert.equal(record(root, 'c1').started, true, 'pause (a locked verb) recorded the start');
      assert.equal(JSON.parse(await berthOk(root, ['state', 'c1'])).status, 'paused');
      await berthOk(root, ['delete', '--force', 'c1']);
      assert.deepEqual(rootCgroups(root), []);
    });
  }

  test('start killed right after the backend started it: running', async () => {
    const root = join(tmp.path, 'root-start');
    const bundle = makeBusyboxBundle(join(tmp.path, 'start'));
    await berthOk(root, ['create', '--bundle', bundle, 'c1']);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'c1'])).status, 'created');
    const r = await berth(['--root', root, 'start', 'c1'], { env: crashAt('after-backend-start') });
    assert.equal(r.code, null, r.stderr);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'c1'])).status, 'running');
    // start again is refused as for any running container (not run twice).
    const again = await berth(['--root', root, 'start', 'c1']);
    assert.equal(again.code, 5);
    assert.match(again.stderr, /cannot start container "c1": it is running/);
    await berthOk(root, ['delete', '--force', 'c1']);
  });
});

describe('killed right after the backend created the container, before its pid was recorded', { skip }, () => {
  test('the pid file the record names gives the init back: created, start runs it, a second create finds it exists', async () => {
    const root = join(tmp.path, 'root-created');
    const bundle = makeBusyboxBundle(join(tmp.path, 'created'));
    const r = await berth(['--root', root, 'create', '--bundle', bundle, 'c1'], { env: crashAt('after-backend-create') });
    assert.equal(r.code, null, r.stderr);
    assert.equal(record(root, 'c1').pid, undefined, 'the record has no pid');
    const state = JSON.parse(await berthOk(root, ['state', 'c1']));
    assert.equal(state.status, 'created');
    assert.ok(state.pid > 0);
    const again = await berth(['--root', root, 'create', '--bundle', bundle, 'c1']);
    assert.equal(again.code, 5, again.stderr);
    assert.equal(record(root, 'c1').pid, state.pid, 'the create (a locked verb) recorded the pid');
    await berthOk(root, ['start', 'c1']);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'c1'])).status, 'running');
    assert.equal((await berth(['--root', root, 'exec', 'c1', 'true'])).code, 0);
    await berthOk(root, ['delete', '--force', 'c1']);
    assert.deepEqual(rootCgroups(root), []);
  });

  test('run -d killed there: created (start never came); a plain delete removes it and its cgroups', async () => {
    const root = join(tmp.path, 'root-created-run');
    const bundle = makeBusyboxBundle(join(tmp.path, 'created-run'));
    assert.equal((await berth(['--root', root, 'run', '-d', '--bundle', bundle, 'c1'], { env: crashAt('after-backend-create') })).code, null);
    assert.equal(JSON.parse(await berthOk(root, ['list', '--format', 'json']))[0].status, 'created');
    await berthOk(root, ['delete', 'c1']);
    assert.deepEqual(rootCgroups(root), []);
    assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), []);
  });
});

describe('crun killed mid-create', { skip }, () => {
  test('delete --force removes the cgroups crun made, though crun no longer knows the container', async (t) => {
    const root = join(tmp.path, 'root-leak');
    const marker = join(tmp.path, 'leak.hook-ran');
    // The createRuntime hook runs once crun has made the cgroups: kill everything there.
    const bundle = makeBusyboxBundle(join(tmp.path, 'leak'), {
      edit: (c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; exec sleep 1041`] }] }),
    });
    const create = berthInBackground(['--root', root, 'create', '--bundle', bundle, 'c1'], { detached: true });
    t.after(() => cleanUp(root, [create], ['c1']));
    await waitFor('the hook to run', () => existsSync(marker), 15_000);
    const before = rootCgroups(root);
    assert.ok(before.length > 0, 'crun made the container cgroups');
    process.kill(-create.child.pid!, 'SIGKILL'); // berth, crun and the hook: one process group
    await create.done;
    assert.deepEqual(rootCgroups(root), before, 'the kill left them');
    const del = await berth(['--root', root, 'delete', '--force', 'c1']);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(rootCgroups(root), []);
    assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), []);
  });
});
