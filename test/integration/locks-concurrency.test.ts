// Locks and concurrency on real crun containers (issue 14): a verb stuck in a hook that never
// returns holds only its own container; every wait for it is bounded and names it; delete
// --force ends it. Verbs on one id serialize (20 creates: one winner), on different ids they
// run in parallel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { berthInBackground, cleanUp } from '../helpers/berth-bg.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { missing } from '../helpers/host.js';
import { buildBusyboxOciArchive } from '../helpers/oci-image.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const skip = missing('crun');
const tmp = tempDir('berth-locks-');
after(() => tmp.remove());

/** A bundle whose createRuntime hook marks that it runs, then sleeps forever (no timeout). */
function hungBundle(name: string, tag: string): { bundle: string; marker: string } {
  const marker = join(tmp.path, `${name}.hook-ran`);
  const bundle = makeBusyboxBundle(join(tmp.path, name), {
    edit: (c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; exec sleep ${tag}`] }] }),
  });
  return { bundle, marker };
}

function pidsRunning(pattern: string): number[] {
  const r = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '').map(Number);
}

describe('locks', { skip }, () => {
  test('a create hung in a hook: state answers, another verb waits a bounded time and names the holder, delete --force ends it and leaves nothing', async (t) => {
    const root = join(tmp.path, 'root-hung');
    const { bundle, marker } = hungBundle('hung', '1031');
    const create = berthInBackground(['--root', root, 'create', '--bundle', bundle, 'h1']);
    t.after(() => cleanUp(root, [create], ['h1']));
    await waitFor('the hook to run', () => existsSync(marker), 15_000);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'h1'])).status, 'creating');

    const t0 = Date.now();
    const start = await berth(['--root', root, 'start', 'h1'], { timeoutMs: 60_000 });
    const waited = Date.now() - t0;
    assert.equal(start.code, 7, start.stderr);
    assert.ok(waited >= 29_000 && waited < 45_000, `waited ${waited} ms`);
    // The holder, what runs below it (crun, the hook) and the ways out.
    const pid = create.child.pid!;
    assert.match(start.stderr, new RegExp(`container "h1" is locked by pid ${pid} \\(\`berth --root ${root} create --bundle ${bundle} h1\`\\) for \\d+ s; below it: \\d+ \`\\S*crun `));
    assert.match(start.stderr, /`sleep 1031`/);
    assert.match(start.stderr, new RegExp(`end it with \`kill ${pid}\`; \`berth delete --force h1\` ends it after 5 s and removes the container`));

    const t1 = Date.now();
    const del = await berth(['--root', root, 'delete', '--force', 'h1'], { timeoutMs: 60_000 });
    const took = Date.now() - t1;
    assert.equal(del.code, 0, del.stderr);
    assert.ok(took >= 4_500 && took < 15_000, `delete --force took ${took} ms`);
    assert.match(del.stderr, new RegExp(`level=warn msg="delete --force: ended pid ${pid} `));
    const ended = await create.done;
    assert.equal(ended.signal, 'SIGKILL');
    assert.deepEqual(pidsRunning('sleep 1031'), [], 'the hook is gone');
    assert.deepEqual(rootCgroups(root), [], 'no cgroup left');
    assert.equal((await berth(['--root', root, 'state', 'h1'])).code, 4);
    assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), [], 'no record, no lock residue');
  });
});

describe('concurrency', { skip }, () => {
  test('creates of different ids run in parallel: two hung in hooks block neither each other nor a third', async (t) => {
    const root = join(tmp.path, 'root-par');
    const a = hungBundle('par-a', '1032');
    const b = hungBundle('par-b', '1033');
    const ca = berthInBackground(['--root', root, 'create', '--bundle', a.bundle, 'a']);
    const cb = berthInBackground(['--root', root, 'create', '--bundle', b.bundle, 'b']);
    t.after(() => cleanUp(root, [ca, cb], ['a', 'b', 'n1']));
    await waitFor('both hooks to run at once', () => existsSync(a.marker) && existsSync(b.marker), 15_000);
    assert.equal(pidsRunning('sleep 1032').length, 1);
    assert.equal(pidsRunning('sleep 1033').length, 1);
    const plain = makeBusyboxBundle(join(tmp.path, 'par-plain'));
    const t0 = Date.now();
    await berthOk(root, ['run', '-d', '--bundle', plain, 'n1']);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'n1'])).status, 'running');
    await berthOk(root, ['delete', '--force', 'n1']);
    assert.ok(Date.now() - t0 < 5_000, `a third container's verbs took ${Date.now() - t0} ms`);
    const [da, db] = await Promise.all([berth(['--root', root, 'delete', '--force', 'a']), berth(['--root', root, 'delete', '--force', 'b'])]);
    assert.equal(da.code, 0, da.stderr);
    assert.equal(db.code, 0, db.stderr);
    await Promise.all([ca.done, cb.done]);
    assert.deepEqual(rootCgroups(root), []);
  });

  test('20 simultaneous creates of one id: exactly one wins, the others fail with "already exists" (exit 5)', async () => {
    const root = join(tmp.path, 'root-20');
    const bundle = makeBusyboxBundle(join(tmp.path, 'twenty'));
    const results = await Promise.all(Array.from({ length: 20 }, () => berth(['--root', root, 'create', '--bundle', bundle, 'same'], { timeoutMs: 60_000 })));
    const won = results.filter((r) => r.code === 0);
    const lost = results.filter((r) => r.code !== 0);
    assert.equal(won.length, 1, results.map((r) => `${r.code} ${r.stderr.trim()}`).join('\n'));
    for (const r of lost) {
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.stderr.trim(), 'berth: container "same" already exists');
    }
    assert.equal(JSON.parse(await berthOk(root, ['state', 'same'])).status, 'created');
    await berthOk(root, ['delete', '--force', 'same']);
    assert.deepEqual(rootCgroups(root), []);
  });

  test('20 simultaneous create --image of one id on dir storage: one winner, one volume, the winner\'s intact', async () => {
    const dir = join(tmp.path, 'img20');
    const config = join(tmp.path, 'img20.toml');
    writeFileSync(config, `default_runtime = "crun-cli"\n\n[storage]\ndriver = "dir"\ndir = "${join(dir, 'storage')}"\nstate_dir = "${join(dir, 'state')}"\n`);
    const root = join(dir, 'root');
    const archive = buildBusyboxOciArchive(join(dir, 'image'), { cmd: ['sleep', '300'] });
    await berthOk(root, ['--config', config, 'image', 'import', archive.file, '--name', 'busybox:race']);
    const results = await Promise.all(Array.from({ length: 20 }, () => berth(['--root', root, '--config', config, 'create', '--image', 'busybox:race', 'img'], { timeoutMs: 90_000 })));
    const won = results.filter((r) => r.code === 0);
    assert.equal(won.length, 1, results.map((r) => `${r.code} ${r.stderr.trim()}`).join('\n'));
    for (const r of results.filter((x) => x.code !== 0)) {
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.stderr.trim(), 'berth: container "img" already exists');
    }
    const volumes = JSON.parse(await berthOk(root, ['--config', config, 'image', 'ls', '--format', 'json'])) as Array<{ containerVolumes: unknown[] }>;
    assert.equal(volumes[0]!.containerVolumes.length, 1, JSON.stringify(volumes));
    await berthOk(root, ['--config', config, 'start', 'img']);
    assert.equal((await berth(['--root', root, '--config', config, 'exec', 'img', 'test', '-x', '/bin/busybox'])).code, 0, 'the rootfs is whole');
    await berthOk(root, ['--config', config, 'delete', '--force', 'img']);
    assert.deepEqual(rootCgroups(root), []);
  });

  test('delete, kill and state racing on one container: no corrupt record, no error but the documented ones', async () => {
    const root = join(tmp.path, 'root-race');
    const bundle = makeBusyboxBundle(join(tmp.path, 'race'));
    // Exit codes and the words of each: 4 gone, 5 not in a status for it (docs/cli.md#exit-codes).
    const allowed: Record<string, Array<[number, RegExp]>> = {
      state: [[0, /^$/], [4, /does not exist/]],
      kill: [[0, /^$/], [4, /does not exist/], [5, /cannot kill container "r" : it is stopped|cannot kill container "r": it is stopped/]],
      delete: [[0, /^$/], [4, /does not exist/], [5, /cannot delete container "r": it is running; stop it first or use delete --force/]],
      force: [[0, /^$/]],
    };
    for (let round = 0; round < 3; round++) {
      await berthOk(root, ['run', '-d', '--bundle', bundle, 'r']);
      const verbs: Array<[string, string[]]> = [];
      for (let i = 0; i < 4; i++) verbs.push(['state', ['state', 'r']], ['kill', ['kill', 'r', 'KILL']], ['delete', ['delete', 'r']]);
      verbs.push(['force', ['delete', '--force', 'r']]);
      const results = await Promise.all(verbs.map(([, args]) => berth(['--root', root, ...args], { timeoutMs: 60_000 })));
      results.forEach((r, i) => {
        const [kind] = verbs[i]!;
        const ok = allowed[kind]!.some(([code, words]) => r.code === code && words.test(r.stderr.trim()));
        assert.ok(ok, `${kind}: exit ${r.code}: ${r.stderr.trim()}`);
        if (kind === 'state' && r.code === 0) assert.ok(['running', 'stopped'].includes(JSON.parse(r.stdout).status));
      });
      // The force delete ran: the container is gone whatever the order, and nothing is left.
      assert.equal((await berth(['--root', root, 'state', 'r'])).code, 4);
      assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), []);
      assert.deepEqual(rootCgroups(root), []);
    }
  });
});

