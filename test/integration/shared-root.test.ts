// A --root shared with runc (issue 15 item 8): containerd's runc shim gives every runtime
// /run/containerd/runc/<namespace>, and Docker may do the same. berth keeps all it writes there
// in one directory, <root>/@berth, which `runc list` reports once (exit 0, its list intact)
// and which no runc container can be named. And a root laid out by berth 0.8 (flat) keeps
// working, and `doctor --repair` moves it once it holds no container.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { removeRootCgroupParents } from '../helpers/cgroups.js';
import { ALL_BACKENDS, missing } from '../helpers/host.js';
import { STATE_DIR_NAME } from '../../src/core/state-root.js';

const backends = ALL_BACKENDS.filter((b) => b.skip === undefined && ['crun-cli', 'runc', 'lxc'].includes(b.name));

function runcList(root: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a root shared with runc', { skip: missing('runc', 'busybox') }, () => {
  const tmp = tempDir('berth-shared-root-');
  after(() => {
    removeRootCgroupParents(tmp.path);
    tmp.remove();
  });
  const root = join(tmp.path, 'shared');
  mkdirSync(root);
  const bundle = makeBusyboxBundle(join(tmp.path, 'b'), { args: ['sleep', '300'] });

  test("runc's list stays whole beside berth's containers on every backend, and no runc container can take berth's name", async (t) => {
    // runc's own container, named like berth's subdirectories of 0.8.
    const runcIds = ['containers', 'crun', 'runc-own'];
    for (const id of runcIds) execFileSync('runc', ['--root', root, 'run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
    t.after(() => {
      for (const id of runcIds) spawnSync('runc', ['--root', root, 'delete', '--force', id]);
    });
    const berthIds = backends.map((b) => `berth-${b.name}`);
    for (const b of backends) await berthOk(root, ['--runtime', b.name, 'run', '--detach', '--bundle', bundle, `berth-${b.name}`]);
    t.after(async () => {
      for (const id of berthIds) await berth(['--root', root, 'delete', '--force', id]);
    });

    assert.deepEqual(readdirSync(root).sort(), [STATE_DIR_NAME, ...runcIds].sort(), 'berth made one entry in the root');
    const listed = runcList(root);
    assert.equal(listed.code, 0);
    assert.deepEqual(listed.stdout.split('\n').filter(Boolean).sort(), runcIds, "runc lists its own containers, none of berth's");
    // runc reports every directory that is not its container; berth's is the only one.
    assert.deepEqual(listed.stderr.split('\n').filter(Boolean), [`load container ${STATE_DIR_NAME}: invalid container ID format`]);
    // "@" is outside runc's id alphabet: runc cannot make a container that would land on berth's state.
    const clash = spawnSync('runc', ['--root', root, 'run', '-d', '--bundle', bundle, STATE_DIR_NAME], { encoding: 'utf8' });
    assert.notEqual(clash.status, 0);
    assert.match(clash.stderr, /invalid container ID format/);

    const list = JSON.parse(await berthOk(root, ['list', '--format', 'json'])) as Array<{ id: string; status: string }>;
    assert.deepEqual(list.map((c) => [c.id, c.status]).sort(), berthIds.map((id) => [id, 'running']).sort(), "berth lists its own containers, none of runc's");
    for (const id of berthIds) await berthOk(root, ['delete', '--force', id]);
    // runc's containers are untouched by berth's deletes.
    for (const id of runcIds) assert.equal((JSON.parse(execFileSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' })) as { status: string }).status, 'running');
  });
});

describe('a root laid out by berth 0.8 (flat)', { skip: missing('runc', 'busybox') }, () => {
  const tmp = tempDir('berth-flat-root-');
  after(() => {
    removeRootCgroupParents(tmp.path);
    tmp.remove();
  });
  const root = join(tmp.path, 'flat');
  const bundle = makeBusyboxBundle(join(tmp.path, 'b'), { args: ['sleep', '300'] });

  /** Today's layout pressed flat, as 0.8 wrote it: each entry of <root>/@berth at the top. */
  function flatten(): void {
    const dir = join(root, STATE_DIR_NAME);
    for (const name of readdirSync(dir)) renameSync(join(dir, name), join(root, name));
    rmdirSync(dir);
  }

  test('keeps working with its containers in place; doctor --repair moves it only once it holds none, and keeps its identity', async () => {
    await berthOk(root, ['--runtime', 'runc', 'run', '--detach', '--bundle', bundle, 'old-1']);
    flatten();
    const identity = readFileSync(join(root, 'identity.json'), 'utf8');

    const state = JSON.parse(await berthOk(root, ['state', 'old-1'])) as { status: string };
    assert.equal(state.status, 'running', 'the flat root is read where it is');
    await berthOk(root, ['--runtime', 'runc', 'run', '--detach', '--bundle', bundle, 'old-2']);
    assert.ok(readdirSync(join(root, 'containers')).includes('old-2'), 'a new container in a flat root joins the others');

    const refused = await berth(['--root', root, 'doctor', '--repair', '--format', 'json']);
    const layout = (JSON.parse(refused.stdout) as { checks: Array<{ level: string; what: string; message: string }> }).checks.filter((c) => c.what === 'layout');
    assert.equal(layout.length, 1, refused.stdout);
    assert.equal(layout[0]!.level, 'warn');
    assert.match(layout[0]!.message, /flat layout.*once its containers are deleted \(old-1, old-2\), `berth doctor --repair` moves it/);
    assert.ok(readdirSync(root).includes('containers'), 'nothing moved while containers live');

    for (const id of ['old-1', 'old-2']) await berthOk(root, ['delete', '--force', id]);
    const before = await berth(['--root', root, 'doctor', '--format', 'json']);
    assert.match(before.stdout, /it holds no container: `berth doctor --repair` moves it into/);
    const repaired = await berth(['--root', root, 'doctor', '--repair', '--format', 'json']);
    const done = (JSON.parse(repaired.stdout) as { checks: Array<{ level: string; what: string; message: string }> }).checks.filter((c) => c.what === 'repaired');
    assert.equal(done.length, 1, repaired.stdout);
    assert.match(done[0]!.message, /moved .*containers.*identity\.json into .*@berth: done$/);
    assert.deepEqual(readdirSync(root), [STATE_DIR_NAME]);
    assert.equal(readFileSync(join(root, STATE_DIR_NAME, 'identity.json'), 'utf8'), identity, 'the identity that names its cgroups and volumes moved unchanged');

    const again = await berth(['--root', root, 'doctor', '--format', 'json']);
    assert.ok(!(JSON.parse(again.stdout) as { checks: Array<{ what: string }> }).checks.some((c) => c.what === 'layout' || c.what === 'repaired'), 'moved once');
    await berthOk(root, ['--runtime', 'runc', 'run', '--detach', '--bundle', bundle, 'new-1']);
    await berthOk(root, ['delete', '--force', 'new-1']);
    assert.deepEqual(readdirSync(root), [STATE_DIR_NAME]);
  });
});
