// The whole container lifecycle through the real berth CLI against real crun and real runc: one
// suite, run once per backend.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS, missing } from '../helpers/host.js';
import { validateState } from '../helpers/oci-schema.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import type { OciState } from '../../src/runtime/runtime.js';
import { parentPid } from '../../src/core/proc.js';
import { berthStateDir } from '../../src/core/state-root.js';

const checkState = validateState();

type State = OciState;

for (const { name: backend, skip, ids } of ALL_BACKENDS) {
  describe(`lifecycle on ${backend}`, { skip }, () => {
    const tmp = tempDir(`berth-life-${backend}-`);
    const root = join(tmp.path, 'root');
    const b = (args: string[], input?: string) => berthOk(root, ['--runtime', backend, ...args], { input });
    const state = async (id: string): Promise<State> => {
      const s = JSON.parse(await b(['state', id])) as State;
      const invalid = checkState(s.status === 'paused' ? { ...s, status: 'running' } : s);
      assert.equal(invalid, undefined, `state of ${id} violates the OCI state schema: ${invalid}`);
      return s;
    };
    const backendIds = (): string[] => ids(root);
    let sleeper: string;

    before(() => {
      sleeper = makeBusyboxBundle(join(tmp.path, 'sleeper'), { args: ['sleep', '300'] });
    });
    after(async () => {
      // No records directory when no test of the suite ran (e.g. all filtered out by a name pattern).
      const records = join(berthStateDir(root), 'containers');
      for (const id of existsSync(records) ? readdirSync(records) : []) {
        await berth(['--root', root, 'delete', '--force', id]);
      }
      tmp.remove();
    });

    test('create, start, state with the real pid, exec, ps, pause, resume, kill, delete', async () => {
      const id = `life-${backend}`;
      const pidFile = join(tmp.path, 'life.pid');
      await b(['create', '--bundle', sleeper, '--pid-file', pidFile, id]);
      let s = await state(id);
      assert.equal(s.status, 'created');
      assert.equal(s.id, id);
      assert.equal(s.bundle, sleeper);
      assert.equal(s.rootfs, join(sleeper, 'rootfs'));
      assert.equal(s.owner, 'root');
      assert.ok(!Number.isNaN(Date.parse(s.created)));
      if (backend === 'lxc') {
        // The pid file names what the caller waits on: the init's monitor, berth-lxc-start, which
        // exits with the init's status (the init is liblxc's child, never the caller's).
        assert.equal(Number(readFileSync(pidFile, 'utf8')), parentPid(s.pid!), "pid file names the init's monitor");
      } else {
        assert.equal(Number(readFileSync(pidFile, 'utf8')), s.pid, 'pid file and state agree');
      }
      assert.ok(existsSync(`/proc/${s.pid}`), 'state pid is a live host process');
      assert.deepEqual(backendIds(), [id], `${backend} keeps the container under berth's root`);

      await b(['start', id]);
      s = await state(id);
      assert.equal(s.status, 'running');
      assert.match(readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), /^sleep\x00300/);

      assert.equal(await b(['exec', id, 'sh', '-c', 'echo exec:$FOO:$(pwd)']), 'exec::/\n');
      assert.equal(await b(['exec', '--env', 'FOO=bar', '--cwd', '/tmp', id, 'sh', '-c', 'echo exec:$FOO:$(pwd)']), 'exec:bar:/tmp\n');
      const exit = await berth(['--root', root, 'exec', id, 'sh', '-c', 'exit 7']);
      assert.equal(exit.code, 7, 'a foreground exec exits with the process code');

      const processFile = join(tmp.path, 'process.json');
      writeFileSync(processFile, JSON.stringify({ args: ['sleep', '200'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }));
      const execPid = join(tmp.path, 'exec.pid');
      await b(['exec', '--process', processFile, '--detach', '--pid-file', execPid, id]);
      const detachedPid = Number(readFileSync(execPid, 'utf8'));
      assert.ok(existsSync(`/proc/${detachedPid}`), 'detached exec process is alive');

      const pids = JSON.parse(await b(['ps', '--format', 'json', id])) as number[];
      if (backend === 'lxc') {
        // The pid file names lxc-attach, left to the caller's subreaper (it exits with the exec's
        // status); the exec'd process runs below it, in the container.
        const below = (p: number): boolean => {
          for (let q: number | undefined = p; q !== undefined && q > 1; q = parentPid(q)) if (q === detachedPid) return true;
          return false;
        };
        assert.ok(pids.includes(s.pid) && pids.some((p) => p !== s.pid && below(p)), `ps lists init and the exec below lxc-attach ${detachedPid}: ${pids}`);
      } else {
        assert.ok(pids.includes(s.pid) && pids.includes(detachedPid), `ps lists init and exec: ${pids}`);
      }
      const table = await b(['ps', id]);
      assert.match(table, /^PID\s+CMD/);
      assert.match(table, /sleep 200/);

      await b(['pause', id]);
      assert.equal((await state(id)).status, 'paused');
      const listed = JSON.parse(await b(['list', '--format', 'json'])) as Array<{ id: string; status: string; backend: string }>;
      assert.deepEqual(listed.find((e) => e.id === id)?.status, 'paused');
      await b(['resume', id]);
      assert.equal((await state(id)).status, 'running');

      const del = await berth(['--root', root, 'delete', id]);
      assert.equal(del.code, 5, 'delete of a running container without --force fails');
      assert.equal((await state(id)).status, 'running');

      await b(['kill', id, 'KILL']);
      await waitFor('container to stop', async () => (await state(id)).status === 'stopped');
      assert.equal((await state(id)).pid, 0);
      await b(['delete', id]);
      assert.equal((await berth(['--root', root, 'state', id])).code, 4);
      assert.deepEqual(backendIds(), []);
      assert.ok(!existsSync(join(berthStateDir(root), 'containers', id)), 'no record left');
    });

    test('kill takes names and numbers; --all signals every process', async () => {
      const id = `sig-${backend}`;
      // An init that handles USR1 (pid 1 ignores signals it has no handler for).
      const trap = makeBusyboxBundle(join(tmp.path, 'trap'), {
        args: ['sh', '-c', 'trap "echo got-usr1 > /tmp/usr1" USR1; while true; do sleep 0.1; done'],
        edit: (c) => (c.root.readonly = false),
      });
      await b(['run', '--detach', '--bundle', trap, id]);
      await b(['kill', id, 'SIGUSR1']);
      await waitFor('USR1 to be handled', async () => (await berth(['--root', root, 'exec', id, 'cat', '/tmp/usr1'])).stdout === 'got-usr1\n');
      await b(['exec', id, 'rm', '/tmp/usr1']);
      await b(['kill', id, '10']);
      await waitFor('signal 10 (USR1) to be handled', async () => (await berth(['--root', root, 'exec', id, 'cat', '/tmp/usr1'])).stdout === 'got-usr1\n');
      await b(['kill', '--all', id, '9']);
      await waitFor('container to stop', async () => (await state(id)).status === 'stopped');
      await b(['delete', id]);
    });

    test('update changes resource limits from a file and from stdin', async () => {
      const id = `upd-${backend}`;
      await b(['run', '--detach', '--bundle', sleeper, id]);
      const { pid } = await state(id);
      const pidsCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .split('\n')
        .find((l) => /:pids:/.test(l))
        ?.split(':')[2];
      assert.ok(pidsCgroup, 'container is in a pids cgroup');
      const pidsMax = (): string => readFileSync(`/sys/fs/cgroup/pids${pidsCgroup}/pids.max`, 'utf8').trim();
      const file = join(tmp.path, 'resources.json');
      writeFileSync(file, JSON.stringify({ pids: { limit: 42 } }));
      await b(['update', '--resources', file, id]);
      assert.equal(pidsMax(), '42');
      await b(['update', '--resources', '-', id], JSON.stringify({ pids: { limit: 17 } }));
      assert.equal(pidsMax(), '17');
      await b(['delete', '--force', id]);
      assert.deepEqual(backendIds(), []);
    });

    test('stop uses the image stop signal, and KILL after the timeout', async () => {
      const graceful = makeBusyboxBundle(join(tmp.path, 'graceful'), {
        args: ['sh', '-c', 'trap "exit 0" USR2; while true; do sleep 0.1; done'],
        annotations: { 'org.opencontainers.image.stopSignal': 'SIGUSR2' },
      });
      await b(['run', '--detach', '--bundle', graceful, `stop-g-${backend}`]);
      let t0 = Date.now();
      await b(['stop', '--timeout', '30', `stop-g-${backend}`]);
      assert.ok(Date.now() - t0 < 10_000, 'stopped by its stop signal, long before the timeout');
      assert.equal((await state(`stop-g-${backend}`)).status, 'stopped');

      // sleep as pid 1 ignores TERM: only the KILL after the timeout stops it.
      await b(['run', '--detach', '--bundle', sleeper, `stop-k-${backend}`]);
      t0 = Date.now();
      await b(['stop', '--timeout', '1', `stop-k-${backend}`]);
      assert.ok(Date.now() - t0 >= 1000, 'waited for the timeout before KILL');
      assert.equal((await state(`stop-k-${backend}`)).status, 'stopped');
      await b(['delete', `stop-g-${backend}`]);
      await b(['delete', `stop-k-${backend}`]);
    });

    test('run in the foreground returns the exit code and leaves nothing', async () => {
      const bundle = makeBusyboxBundle(join(tmp.path, 'fg'), { args: ['sh', '-c', 'echo out-$(hostname); echo err >&2; exit 3'] });
      const r = await berth(['--root', root, '--runtime', backend, 'run', '--bundle', bundle, `fg-${backend}`]);
      assert.equal(r.code, 3);
      assert.equal(r.stdout, 'out-berth-test\n');
      assert.equal(r.stderr, 'err\n');
      assert.equal((await berth(['--root', root, 'state', `fg-${backend}`])).code, 4);
      assert.deepEqual(backendIds(), []);
    });

    test('run --detach: the container writes to the stdout and stderr berth was given', async () => {
      const id = `out-${backend}`;
      const bundle = makeBusyboxBundle(join(tmp.path, 'out'), { args: ['sh', '-c', 'echo out-$(hostname); echo err >&2'] });
      const outFile = join(tmp.path, 'out.stdout');
      const errFile = join(tmp.path, 'out.stderr');
      const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
      try {
        const child = spawn(BERTH_BIN, ['--root', root, '--runtime', backend, 'run', '--detach', '--bundle', bundle, id], { stdio: ['ignore', out, err] });
        assert.equal(await new Promise((r) => child.on('exit', r)), 0, readFileSync(errFile, 'utf8'));
      } finally {
        closeSync(out);
        closeSync(err);
      }
      await waitFor('the container to stop', async () => (await state(id)).status === 'stopped');
      await b(['delete', id]);
      assert.equal(readFileSync(outFile, 'utf8'), 'out-berth-test\n');
      assert.equal(readFileSync(errFile, 'utf8'), 'err\n');
    });

    test('delete --force removes a running container', async () => {
      const id = `force-${backend}`;
      await b(['run', '-d', '-b', sleeper, id]);
      const { pid } = await state(id);
      await b(['delete', '--force', id]);
      await waitFor('init to die', () => !existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '');
      assert.deepEqual(backendIds(), []);
      assert.ok(!existsSync(join(berthStateDir(root), 'containers', id)));
    });

    test('a create killed half-way: what its orphaned backend finished is the container (delete --force removes it, a second create says it exists); what it did not, the next create replaces', async () => {
      // A createRuntime hook keeps the backend busy, so berth can be killed mid-create.
      const slow = makeBusyboxBundle(join(tmp.path, 'slow'), {
        args: ['sleep', '300'],
        edit: (c) => (c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '1'] }] }),
      });
      for (const cleanup of ['delete --force', 'create'] as const) {
        const id = `killed-${backend}-${cleanup.replace(/\W/g, '')}`;
        const child = spawn(BERTH_BIN, ['--root', root, '--runtime', backend, 'create', '--bundle', slow, id], { stdio: 'ignore' });
        await waitFor('the intent record', () => existsSync(join(berthStateDir(root), 'containers', id, 'record.json')));
        await new Promise((r) => setTimeout(r, 300));
        child.kill('SIGKILL');
        await new Promise((r) => child.on('exit', r));
        // The backend, orphaned, finishes its create.
        await waitFor(`${backend} to finish creating`, () => backendIds().includes(id));
        // crun and runc, orphaned, write the pid file the record names: their init is the
        // container's (runtime/pid-recovery.ts), so it reads as created. lxc's backend runs in
        // berth's own process, which wrote no pid file: a killed create, stopped.
        const finished = backend !== 'lxc';
        assert.equal((await state(id)).status, finished ? 'created' : 'stopped', 'a create finished by its orphaned backend is the container');
        if (cleanup === 'delete --force') {
          await b(['delete', '--force', id]);
          assert.ok(!existsSync(join(berthStateDir(root), 'containers', id)));
        } else if (finished) {
          const again = await berth(['--root', root, '--runtime', backend, 'create', '--bundle', sleeper, id]);
          assert.equal(again.code, 5, `a second create finds it exists: ${again.stderr}`);
          await b(['delete', '--force', id]);
        } else {
          await b(['create', '--bundle', sleeper, id]);
          assert.equal((await state(id)).status, 'created');
          await b(['delete', '--force', id]);
        }
        assert.deepEqual(backendIds(), []);
      }
    });

    test('--systemd-cgroup reaches the backend', { skip: existsSync('/run/systemd/system') ? 'systemd runs here: the backend would accept it' : undefined }, async () => {
      // Without systemd as PID 1 the backend itself refuses the systemd cgroup manager: its own
      // words prove the flag got there, and the failed create leaves nothing.
      // lxc refuses it itself: liblxc manages the cgroups.
      const r = await berth(['--root', root, '--runtime', backend, '--systemd-cgroup', 'create', '-b', sleeper, `sd-${backend}`]);
      assert.equal(r.code, backend === 'lxc' ? 6 : 1, r.stderr);
      assert.match(r.stderr, backend.startsWith('crun') ? /sd-bus/ : backend === 'lxc' ? /backend lxc .*--systemd-cgroup/ : /systemd not running/);
      assert.equal((await berth(['--root', root, 'state', `sd-${backend}`])).code, 4);
      assert.deepEqual(backendIds(), []);
    });

    test('concurrent verbs on one id serialize; different ids run in parallel', async () => {
      // Several rounds: the losers of a race must leave the winner's container alone, whatever
      // the order in which they made the directory and took the lock.
      for (let round = 0; round < 3; round++) {
        const same = await Promise.all([1, 2, 3, 4].map(() => berth(['--root', root, '--runtime', backend, 'create', '-b', sleeper, `dup-${backend}`])));
        assert.equal(same.filter((r) => r.code === 0).length, round === 0 ? 1 : 0, 'exactly one create wins');
        for (const r of same.filter((r) => r.code !== 0)) {
          assert.equal(r.code, 5);
          assert.match(r.stderr, /already exists/);
        }
        assert.equal((await state(`dup-${backend}`)).status, 'created');
        if (round < 2) {
          await b(['delete', '--force', `dup-${backend}`]);
          await b(['create', '-b', sleeper, `dup-${backend}`]);
        }
      }
      const ids = [1, 2, 3].map((i) => `par-${backend}-${i}`);
      const results = await Promise.all(ids.map((id) => berth(['--root', root, '--runtime', backend, 'create', '-b', sleeper, id])));
      assert.deepEqual(results.map((r) => r.code), [0, 0, 0]);
      for (const id of [...ids, `dup-${backend}`]) await b(['delete', '--force', id]);
      assert.deepEqual(backendIds(), []);
    });
  });
}

describe('routing across backends', { skip: missing('crun', 'runc') }, () => {
  test('rules choose the backend, the choice is recorded, and list shows every backend', async (t) => {
    const tmp = tempDir('berth-route-');
    t.after(tmp.remove);
    const root = join(tmp.path, 'root');
    const config = join(tmp.path, 'config.toml');
    const bundle = makeBusyboxBundle(join(tmp.path, 'b'));
    writeFileSync(config, 'default_runtime = "crun"\n[[routes]]\nid_glob = "legacy-*"\nruntime = "runc"\n');
    const b = (args: string[]) => berthOk(root, ['--config', config, ...args]);
    await b(['create', '-b', bundle, 'legacy-1']);
    await b(['create', '-b', bundle, 'modern-1']);
    const list = JSON.parse(await b(['list', '--format', 'json'])) as Array<{ id: string; backend: string; backendReason: string }>;
    // The default, crun (auto), is recorded as what it resolved to, and the reason says so.
    assert.deepEqual(list.map((e) => [e.id, e.backend.replace(/^crun-(abi|cli)$/, 'crun (auto)')]), [['legacy-1', 'runc'], ['modern-1', 'crun (auto)']]);
    assert.equal(list[0]!.backendReason, 'config route #1 (id_glob "legacy-*")');
    assert.match(list[1]!.backendReason, /^configured default runtime named crun \(auto\): chose crun-(abi|cli)/);
    const table = await b(['list']);
    assert.match(table, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\s+BACKEND$/m);
    assert.match(table, /^legacy-1\s.*\brunc$/m);
    // Later verbs follow the record, whatever the rules say now.
    writeFileSync(config, 'default_runtime = "crun"\n[[routes]]\nid_regex = "^legacy-"\nruntime = "crun"\n');
    await b(['start', 'legacy-1']);
    const runcList = execFileSync('runc', ['--root', join(berthStateDir(root), 'runc'), 'list', '-q'], { encoding: 'utf8' });
    assert.equal(runcList.trim(), 'legacy-1');
    const record = JSON.parse(readFileSync(join(berthStateDir(root), 'containers', 'legacy-1', 'record.json'), 'utf8')) as { backend: string; backendReason: string };
    assert.equal(record.backend, 'runc');
    assert.match(record.backendReason, /id_glob "legacy-\*"/);
    await b(['delete', '--force', 'legacy-1']);
    await b(['delete', '--force', 'modern-1']);
  });
});
