// The OCI runtime spec's MUSTs (test/helpers/conformance-musts.ts), one test each, against every
// berth backend and, as the yardstick, raw crun and raw runc with the same bundles. A MUST that a
// raw runtime meets and berth does not is a failure. With $BERTH_CONFORMANCE_RESULTS=FILE the
// outcomes are written there as JSON; test/tools/render-conformance.ts makes docs/conformance.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BerthResult } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir, type BundleOptions } from '../helpers/bundle.js';
import { parentPid } from '../../src/core/proc.js';
import { MUSTS, type ConformanceResults, type Must } from '../helpers/conformance-musts.js';
import { ENGINES, conformanceSubjects, type Subject } from '../helpers/conformance-subjects.js';
import { alive } from '../helpers/host.js';
import { validateState } from '../helpers/oci-schema.js';
import { waitFor } from '../helpers/wait.js';

const checkState = validateState();
const outcomes: ConformanceResults['outcomes'] = Object.fromEntries(MUSTS.map((m) => [m.id, {}]));
const mustById = new Map(MUSTS.map((m) => [m.id, m]));
const covered = new Set<string>();

/** A test says the subject cannot meet the MUST on this host, and why. */
class Skip extends Error {}

interface State {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** Schema errors of a state (paused is runc's addition, which the schema lacks). */
function stateInvalid(s: State): string | undefined {
  return checkState(s.status === 'paused' ? { ...s, status: 'running' } : s);
}

const HOST_SH = '/bin/sh';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ns = (pid: number | 'self', kind: string): string => readlinkSync(`/proc/${pid}/ns/${kind}`);

after(() => {
  const file = process.env.BERTH_CONFORMANCE_RESULTS;
  if (!file) return;
  const host = {
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    crun: tryVersion('crun'),
    runc: tryVersion('runc'),
    lxc: tryVersion('lxc-start'),
  };
  const results: ConformanceResults = { ran: new Date().toISOString(), host, outcomes };
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
});

function tryVersion(tool: string): string {
  try {
    return execFileSync(tool, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'not installed';
  }
}

// The yardsticks first: a berth test needs to know whether its engine meets the MUST.
for (const subject of [...conformanceSubjects()].sort((a, b) => Number(a.berth) - Number(b.berth))) {
  if (subject.skip) for (const m of MUSTS) outcomes[m.id]![subject.column] = { result: 'skip', reason: subject.skip };
  describe(`conformance: ${subject.column}`, { skip: subject.skip }, () => suite(subject));
}

function suite(s: Subject): void {
  const tmp = tempDir(`berth-conf-${s.slug}-`);
  const root = join(tmp.path, 'root');
  const used = new Set<string>();
  let seq = 0;

  /** A fresh container id (host-global names: the subject's slug keeps columns apart). */
  const newId = (tag: string): string => {
    const id = `conf-${s.slug}-${tag}-${seq++}`;
    used.add(id);
    return id;
  };
  const cli = (args: string[], options?: { timeoutMs?: number }): Promise<BerthResult> => s.cli(root, args, options);
  const ok = async (args: string[]): Promise<string> => {
    const r = await cli(args);
    if (r.code !== 0) throw new Error(`${s.column}: ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const fails = async (args: string[], why: string): Promise<BerthResult> => {
    const r = await cli(args);
    assert.notEqual(r.code, 0, `${why}: \`${args.join(' ')}\` succeeded (${r.stdout.trim()})`);
    return r;
  };
  const state = async (id: string): Promise<State> => {
    const st = JSON.parse(await ok(['state', id])) as State;
    assert.equal(stateInvalid(st), undefined, `state of ${id} violates state-schema: ${stateInvalid(st)}`);
    return st;
  };
  const statusOf = async (id: string): Promise<string> => (await state(id)).status;
  const untilStatus = (id: string, want: string) => waitFor(`${id} to be ${want}`, async () => (await statusOf(id)) === want);
  /** The id is unknown to the CLI and to the tool underneath. */
  const assertGone = async (id: string): Promise<void> => {
    assert.notEqual((await cli(['state', id])).code, 0, `state of ${id} still answers`);
    assert.ok(!s.ids(root).includes(id), `${id} is still held: ${s.ids(root).join(', ')}`);
  };

  /** A bundle with a host directory OUT bind-mounted at /out (markers the program and hooks write). */
  const bundle = (tag: string, options: BundleOptions = {}): { dir: string; out: string } => {
    const dir = join(tmp.path, `${tag}-${seq++}`);
    const out = join(dir, 'out');
    mkdirSync(out, { recursive: true });
    makeBusyboxBundle(dir, {
      ...options,
      edit: (c) => {
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
        options.edit?.(c);
      },
    });
    return { dir, out };
  };
  /** Writes "ran" to /out/ran, then sleeps. */
  const RAN = ['sh', '-c', 'echo ran >> /out/ran; exec sleep 300'];
  const ranCount = (out: string): number => (existsSync(join(out, 'ran')) ? readFileSync(join(out, 'ran'), 'utf8').split('\n').filter(Boolean).length : 0);

  const must = (id: string, body: () => Promise<void>): void => {
    const m: Must = mustById.get(id)!;
    assert.ok(m, `unknown MUST ${id}`);
    covered.add(id);
    test(`${m.section}: ${m.rule} [${m.id} on ${s.column}]`, async (t) => {
      try {
        await body();
        outcomes[id]![s.column] = { result: 'pass' };
      } catch (err) {
        if (err instanceof Skip) {
          outcomes[id]![s.column] = { result: 'skip', reason: err.message };
          t.skip(err.message);
          return;
        }
        const reason = firstLine(err);
        const limit = s.berth ? LIMITS[s.column]?.[id] : undefined;
        if (limit) {
          outcomes[id]![s.column] = { result: 'skip', reason: `${limit} (seen: ${reason})` };
          t.skip(limit);
          return;
        }
        // The yardsticks are measured, not judged: their failures are the table's, not the run's.
        if (!s.berth) {
          outcomes[id]![s.column] = { result: 'fail', reason };
          t.todo(`${s.column} does not meet this MUST: ${reason}`);
          return;
        }
        // berth hands the container to its engine: what the engine itself fails here is shown
        // as inherited, and fails the run only where the engine meets the MUST.
        const inherited = inheritedFrom(s.column, id);
        outcomes[id]![s.column] = inherited ? { result: 'fail', reason, inherited } : { result: 'fail', reason };
        if (inherited) {
          t.todo(`fails as ${inherited} does: ${reason}`);
          return;
        }
        throw err;
      }
    });
  };

  before(() => mkdirSync(root, { recursive: true }));
  after(async () => {
    for (const id of used) await cli(['delete', '--force', id]);
    const left = s.ids(root).filter((id) => used.has(id));
    tmp.remove();
    assert.deepEqual(left, [], `${s.column} still holds containers after the suite`);
  });

  // ── runtime.md: Operations, State and Query State ────────────────────────────────────────
  must('operations-need-id', async () => {
    const b = bundle('no-id');
    for (const args of [['state'], ['create', '--bundle', b.dir], ['start'], ['kill'], ['delete']]) {
      await fails(args, `${args[0]} without an id`);
    }
    assert.deepEqual(s.ids(root).filter((id) => !used.has(id)), [], 'no container was made');
  });

  must('state-unknown', async () => {
    const r = await fails(['state', `conf-${s.slug}-never-made`], 'state of an unknown id');
    assert.equal(r.stdout.trim(), '', 'no state printed');
  });

  must('state-fields', async () => {
    const b = bundle('fields', { annotations: { 'org.example.conformance': 'kept' } });
    const id = newId('fields');
    await ok(['create', '--bundle', b.dir, id]);
    const st = await state(id);
    assert.equal(st.id, id);
    assert.equal(st.annotations?.['org.example.conformance'], 'kept', 'the bundle\'s annotations');
    assert.equal(st.bundle, b.dir);
    assert.equal(typeof st.ociVersion, 'string');
    assert.ok(st.pid && st.pid > 0 && live(st.pid), `pid ${st.pid} is a live process`);
    await ok(['delete', '--force', id]);
  });

  must('state-status', async () => {
    const b = bundle('status', { args: ['sh', '-c', 'while [ ! -e /out/stop ]; do sleep 0.05; done'] });
    const id = newId('status');
    await ok(['create', '--bundle', b.dir, id]);
    assert.equal(await statusOf(id), 'created');
    await ok(['start', id]);
    assert.equal(await statusOf(id), 'running');
    writeFileSync(join(b.out, 'stop'), '');
    await untilStatus(id, 'stopped');
    await ok(['delete', id]);
  });

  // ── runtime.md: Create and Lifecycle step 2 ───────────────────────────────────────────────
  must('create-duplicate-id', async () => {
    const first = bundle('dup-a');
    const second = bundle('dup-b');
    const id = newId('dup');
    await ok(['create', '--bundle', first.dir, id]);
    const before = await state(id);
    await fails(['create', '--bundle', second.dir, id], 'create with an id in use');
    const afterwards = await state(id);
    assert.deepEqual([afterwards.status, afterwards.bundle, afterwards.pid], ['created', first.dir, before.pid], 'the first container is untouched');
    assert.ok(live(before.pid!), 'its process lives');
    await ok(['delete', '--force', id]);
  });

  must('create-invalid-id', async () => {
    const b = bundle('bad-id', { args: RAN });
    const before = s.ids(root);
    await fails(['create', '--bundle', b.dir, '../conf-escape'], 'create with the id "../conf-escape"');
    assert.deepEqual(s.ids(root), before, 'no container was made');
    assert.ok(!existsSync(join(root, '..', 'conf-escape')) && !existsSync(join(tmp.path, 'conf-escape')), 'nothing outside the root');
    await sleep(200);
    assert.equal(ranCount(b.out), 0, 'the program never ran');
  });

  must('create-no-program', async () => {
    const b = bundle('noprog', { args: RAN });
    const id = newId('noprog');
    await ok(['create', '--bundle', b.dir, id]);
    await sleep(300);
    assert.equal(ranCount(b.out), 0, 'the program ran at create');
    await ok(['start', id]);
    await waitFor('the program to run after start', () => ranCount(b.out) === 1);
    await ok(['delete', '--force', id]);
  });

  must('create-config-frozen', async () => {
    const b = bundle('frozen', { args: ['sh', '-c', 'echo first >> /out/ran; exec sleep 300'] });
    const id = newId('frozen');
    await ok(['create', '--bundle', b.dir, id]);
    const configPath = join(b.dir, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { process: { args: string[] } };
    config.process.args = ['sh', '-c', 'echo second >> /out/ran; exec sleep 300'];
    writeFileSync(configPath, JSON.stringify(config));
    await ok(['start', id]);
    await waitFor('the program to run', () => existsSync(join(b.out, 'ran')));
    assert.equal(readFileSync(join(b.out, 'ran'), 'utf8'), 'first\n', 'the program of create time ran');
    await ok(['delete', '--force', id]);
  });

  // ── runtime.md: Start ─────────────────────────────────────────────────────────────────────
  must('start-unknown', async () => {
    await fails(['start', `conf-${s.slug}-never-made`], 'start of an unknown id');
  });

  must('start-not-created', async () => {
    const running = bundle('restart', { args: RAN });
    const id = newId('restart');
    await ok(['create', '--bundle', running.dir, id]);
    await ok(['start', id]);
    await waitFor('the program to run', () => ranCount(running.out) === 1);
    const { pid } = await state(id);
    await fails(['start', id], 'start of a running container');
    const now = await state(id);
    assert.deepEqual([now.status, now.pid], ['running', pid], 'still running, same process');
    await sleep(200);
    assert.equal(ranCount(running.out), 1, 'the program did not run again');
    await ok(['delete', '--force', id]);

    const once = bundle('restart-stopped', { args: ['sh', '-c', 'echo ran >> /out/ran'] });
    const stoppedId = newId('restart-stopped');
    await ok(['create', '--bundle', once.dir, stoppedId]);
    await ok(['start', stoppedId]);
    await untilStatus(stoppedId, 'stopped');
    await fails(['start', stoppedId], 'start of a stopped container');
    assert.equal(await statusOf(stoppedId), 'stopped');
    await sleep(200);
    assert.equal(ranCount(once.out), 1, 'the program did not run again');
    await ok(['delete', stoppedId]);
  });

  // ── runtime.md: Kill ──────────────────────────────────────────────────────────────────────
  must('kill-stopped', async () => {
    const b = bundle('kill-stopped', { args: ['true'] });
    const id = newId('kill-stopped');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    await untilStatus(id, 'stopped');
    await fails(['kill', id, 'TERM'], 'kill of a stopped container');
    assert.equal(await statusOf(id), 'stopped', 'still stopped and known');
    await ok(['delete', id]);
    await assertGone(id);
  });

  must('kill-created', async () => {
    const b = bundle('kill-created', { args: RAN });
    const id = newId('kill-created');
    await ok(['create', '--bundle', b.dir, id]);
    const { pid } = await state(id);
    await ok(['kill', id, 'KILL']);
    await waitFor(`process ${pid} to die`, () => !live(pid!));
    await untilStatus(id, 'stopped');
    assert.equal(ranCount(b.out), 0, 'the program never ran');
    await ok(['delete', id]);
  });

  must('kill-running', async () => {
    const b = bundle('kill-running', { args: ['sh', '-c', 'trap "echo usr1 >> /out/usr1" USR1; echo > /out/ready; while true; do sleep 0.05; done'] });
    const id = newId('kill-running');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    await waitFor('the trap to be set', () => existsSync(join(b.out, 'ready')));
    await ok(['kill', id, 'USR1']);
    await waitFor('USR1 to reach the process', () => existsSync(join(b.out, 'usr1')));
    assert.equal(await statusOf(id), 'running', 'a handled signal leaves it running');
    await ok(['delete', '--force', id]);
  });

  // ── runtime.md: Delete ────────────────────────────────────────────────────────────────────
  must('delete-unknown', async () => {
    await fails(['delete', `conf-${s.slug}-never-made`], 'delete of an unknown id');
  });

  must('delete-running', async () => {
    const b = bundle('del-running');
    const id = newId('del-running');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    const { pid } = await state(id);
    await fails(['delete', id], 'delete of a running container');
    const now = await state(id);
    assert.deepEqual([now.status, now.pid], ['running', pid], 'still running, same process');
    assert.ok(live(pid!));
    await ok(['delete', '--force', id]);
    await assertGone(id);
  });

  must('delete-paused', async () => {
    const b = bundle('del-paused');
    const id = newId('del-paused');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    await ok(['pause', id]);
    const { pid } = await state(id);
    await fails(['delete', id], 'delete of a paused container');
    const now = await state(id);
    assert.deepEqual([now.status, now.pid], ['paused', pid], 'still paused, same process');
    await ok(['delete', '--force', id]);
    await assertGone(id);
    await waitFor(`process ${pid} to die`, () => !live(pid!));
  });

  must('delete-created', async () => {
    const b = bundle('del-created', { args: RAN });
    const id = newId('del-created');
    await ok(['create', '--bundle', b.dir, id]);
    const { pid } = await state(id);
    await ok(['delete', id]);
    await assertGone(id);
    await waitFor(`process ${pid} to die`, () => !live(pid!));
    assert.equal(ranCount(b.out), 0, 'the program never ran');
  });

  must('delete-resources', async () => {
    const b = bundle('del-res');
    const id = newId('del-res');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    const { pid } = await state(id);
    const pidsCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:pids:/.test(l))?.split(':')[2];
    assert.ok(pidsCgroup && pidsCgroup !== '/', `the container has a pids cgroup of its own (${pidsCgroup})`);
    const cgroupDir = `/sys/fs/cgroup/pids${pidsCgroup}`;
    assert.ok(existsSync(cgroupDir));
    await ok(['kill', id, 'KILL']);
    await untilStatus(id, 'stopped');
    await ok(['delete', id]);
    await assertGone(id);
    await waitFor('the process to go', () => !live(pid!));
    await waitFor(`cgroup ${cgroupDir} to go`, () => !existsSync(cgroupDir));
    await ok(['create', '--bundle', b.dir, id]);
    assert.equal(await statusOf(id), 'created', 'the id can be used again');
    await ok(['delete', '--force', id]);
  });

  // ── config.md: POSIX-platform Hooks ───────────────────────────────────────────────────────
  /** A hook that records its stdin, namespaces and turn (in DIR: a host path, or /out in the container). */
  const recorder = (label: string, dir: string) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `cat > ${dir}/${label}.json; readlink /proc/self/ns/mnt > ${dir}/${label}.mnt; readlink /proc/self/ns/uts > ${dir}/${label}.uts; echo ${label} >> ${dir}/order`],
  });
  interface HookRun {
    out: string;
    bundle: string;
    id: string;
    pid: number;
    /** The order file after create, after start, after delete. */
    order: [string[], string[], string[]];
  }
  let hookRun: Promise<HookRun> | undefined;
  /** One container life with every hook kind, shared by the hook tests that only observe it. */
  const lifeWithHooks = (): Promise<HookRun> =>
    (hookRun ??= (async () => {
      const id = newId('hooks');
      let out = '';
      const b = bundle('hooks', {
        edit: (c) => {
          out = c.mounts.at(-1).source as string;
          c.hooks = {
            prestart: [recorder('prestart.1', out), recorder('prestart.2', out)],
            createRuntime: [recorder('createRuntime', out)],
            createContainer: [recorder('createContainer', out)],
            startContainer: [recorder('startContainer', '/out')],
            poststart: [recorder('poststart', out)],
            poststop: [recorder('poststop', out)],
          };
        },
      });
      const order = (): string[] => (existsSync(join(out, 'order')) ? readFileSync(join(out, 'order'), 'utf8').split('\n').filter(Boolean) : []);
      await ok(['create', '--bundle', b.dir, id]);
      const { pid } = await state(id);
      const afterCreate = order();
      await ok(['start', id]);
      const afterStart = order();
      await ok(['kill', id, 'KILL']);
      await untilStatus(id, 'stopped');
      await ok(['delete', id]);
      return { out: b.out, bundle: b.dir, id, pid: pid!, order: [afterCreate, afterStart, order()] };
    })());

  must('hooks-order', async () => {
    const { order } = await lifeWithHooks();
    const atCreate = ['prestart.1', 'prestart.2', 'createRuntime', 'createContainer'];
    const atStart = [...atCreate, 'startContainer', 'poststart'];
    assert.deepEqual(order, [atCreate, atStart, [...atStart, 'poststop']], 'the hooks that ran by the end of create, start, delete');
  });

  must('hooks-state-stdin', async () => {
    const { out, id, bundle: dir } = await lifeWithHooks();
    const problems: string[] = [];
    for (const label of ['prestart.1', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
      const file = join(out, `${label}.json`);
      const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
      if (text === undefined) problems.push(`${label} did not run`);
      else if (text.trim() === '') problems.push(`${label} got nothing on stdin`);
      else {
        const st = JSON.parse(text) as State;
        const invalid = stateInvalid(st);
        if (invalid) problems.push(`${label}: ${invalid} (status ${JSON.stringify(st.status)})`);
        if (st.id !== id || st.bundle !== dir) problems.push(`${label}: id ${st.id}, bundle ${st.bundle}`);
      }
    }
    assert.deepEqual(problems, [], 'every hook gets a valid state of its container');
  });

  must('hooks-runtime-namespace', async () => {
    const { out } = await lifeWithHooks();
    for (const label of ['prestart.1', 'createRuntime', 'poststart', 'poststop']) {
      for (const kind of ['mnt', 'uts']) {
        assert.equal(readFileSync(join(out, `${label}.${kind}`), 'utf8').trim(), ns('self', kind), `${label} runs in the runtime's ${kind} namespace`);
      }
    }
  });

  must('hooks-container-namespace', async () => {
    const run = await lifeWithHooks();
    // The container's namespaces, as its init had them (read from a second container: the
    // first is gone): compared by inequality with the host's, and equality between the two hooks.
    for (const label of ['createContainer', 'startContainer']) {
      for (const kind of ['mnt', 'uts']) {
        assert.notEqual(readFileSync(join(run.out, `${label}.${kind}`), 'utf8').trim(), ns('self', kind), `${label} runs in the container's ${kind} namespace, not the runtime's`);
      }
    }
    for (const kind of ['mnt', 'uts']) {
      assert.equal(readFileSync(join(run.out, `createContainer.${kind}`), 'utf8'), readFileSync(join(run.out, `startContainer.${kind}`), 'utf8'), `createContainer and startContainer share the container's ${kind} namespace`);
    }
  });

  must('hooks-timeout', async () => {
    // An odd duration names the hook's process among the host's.
    const seconds = String(40 + (seq % 50));
    const b = bundle('hook-timeout', { args: RAN, edit: (c) => (c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', seconds], timeout: 1 }] }) });
    const id = newId('hook-timeout');
    const t0 = Date.now();
    await fails(['create', '--bundle', b.dir, id], 'create with a hook past its timeout');
    assert.ok(Date.now() - t0 < 20_000, `the hook was aborted (create took ${Date.now() - t0} ms)`);
    await assertGone(id);
    assert.equal(ranCount(b.out), 0);
    await waitFor('the hook process to be gone', () => !hostProcessWith(`sleep\0${seconds}\0`), 5_000);
  });

  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    must(`hooks-${kind}-fails`, async () => {
      const b = bundle(`hook-${kind}`, { args: RAN, edit: (c) => (c.hooks = { [kind]: [{ path: HOST_SH, args: ['sh', '-c', 'cat > /dev/null; exit 1'] }] }) });
      const id = newId(`fail-${kind}`);
      await fails(['create', '--bundle', b.dir, id], `create with a failing ${kind} hook`);
      await assertGone(id);
      await sleep(200);
      assert.equal(ranCount(b.out), 0, 'the program never ran');
    });
  }

  must('hooks-startContainer-fails', async () => {
    const b = bundle('hook-startc', { args: RAN, edit: (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null; exit 1'] }] }) });
    const id = newId('fail-startc');
    await ok(['create', '--bundle', b.dir, id]);
    await fails(['start', id], 'start with a failing startContainer hook');
    await sleep(300);
    assert.equal(ranCount(b.out), 0, 'the program never ran');
    const st = await cli(['state', id]);
    if (st.code === 0) assert.equal((JSON.parse(st.stdout) as State).status, 'stopped', 'the container was stopped');
    await ok(['delete', '--force', id]);
    await assertGone(id);
  });

  must('hooks-poststart-fails', async () => {
    const b = bundle('hook-poststart', { args: RAN, edit: (c) => (c.hooks = { poststart: [{ path: HOST_SH, args: ['sh', '-c', 'cat > /dev/null; exit 1'] }] }) });
    const id = newId('fail-poststart');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    await waitFor('the program to run', () => ranCount(b.out) === 1);
    assert.equal(await statusOf(id), 'running');
    await ok(['delete', '--force', id]);
  });

  must('hooks-poststop-fails', async () => {
    const b = bundle('hook-poststop', { edit: (c) => (c.hooks = { poststop: [{ path: HOST_SH, args: ['sh', '-c', 'cat > /dev/null; exit 1'] }] }) });
    const id = newId('fail-poststop');
    await ok(['create', '--bundle', b.dir, id]);
    await ok(['start', id]);
    await ok(['kill', id, 'KILL']);
    await untilStatus(id, 'stopped');
    await ok(['delete', id]);
    await assertGone(id);
  });

  // ── The runc command line that clients drive ──────────────────────────────────────────────
  must('pid-file', async () => {
    const b = bundle('pidfile');
    const id = newId('pidfile');
    const pidFile = join(b.dir, 'init.pid');
    await ok(['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
    assert.ok(existsSync(pidFile), 'the pid file is there when create returns');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const statePid = (await state(id)).pid;
    if (s.column === 'lxc') {
      // The process the caller waits on: the init's monitor, berth-lxc-start, its parent (the
      // init is liblxc's child, never the caller's; the monitor exits with the init's status).
      assert.equal(pid, statePid === undefined ? undefined : parentPid(statePid), `it holds the init's monitor (the parent of state's pid ${statePid})`);
    } else {
      assert.equal(pid, statePid, 'it holds the state pid');
    }
    assert.ok(live(pid));
    await ok(['delete', '--force', id]);
  });

  must('exit-signal', async () => {
    const b = bundle('exit-signal');
    const id = newId('exit-signal');
    const run = cli(['run', '--bundle', b.dir, id], { timeoutMs: 30_000 });
    try {
      await waitFor('the container to run', async () => (await cli(['state', id])).stdout.includes('"running"'));
      await ok(['kill', id, 'KILL']);
    } finally {
      const r = await run;
      assert.equal(r.code, 128 + 9, `run of a process killed by SIGKILL: ${r.stderr.trim()}`);
    }
  });

  // ── config-linux.md and config.md, seen from inside one container each ──────────────────
  interface Inside {
    lines: Map<string, string>;
  }
  const insideRuns = new Map<string, Promise<Inside>>();
  /** Runs SCRIPT in the foreground and returns its key=value lines. */
  const inside = (tag: string, script: string, edit: (c: Record<string, any>) => void): Promise<Inside> => {
    let p = insideRuns.get(tag);
    if (!p) {
      p = (async () => {
        const b = bundle(tag, { args: ['sh', '-c', script], edit });
        const id = newId(tag);
        const r = await cli(['run', '--bundle', b.dir, id]);
        if (r.code !== 0) throw new Error(`${s.column}: run exited ${r.code}: ${r.stderr.trim()}`);
        const lines = new Map(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
        return { lines };
      })();
      insideRuns.set(tag, p);
    }
    return p;
  };
  const NS_KINDS = ['mnt', 'uts', 'ipc', 'pid', 'net'];
  const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx'];
  const linuxChecks = (): Promise<Inside> =>
    inside(
      'linux',
      [
        ...NS_KINDS.map((k) => `echo ns-${k}=$(readlink /proc/self/ns/${k})`),
        ...DEVICES.map((d) => `[ -c /dev/${d} ] && echo dev-${d}=ok || echo dev-${d}=missing`),
        'echo masked-file=$(cat /etc/masked-file 2>&1)',
        '[ -e /etc/masked-dir/f ] && echo masked-dir=visible || echo masked-dir=ok',
        'touch /etc/ro-dir/new 2>/dev/null && echo ro-dir=writable || echo ro-dir=ok',
        'touch /etc/rw-probe 2>/dev/null && echo rw-root=ok || echo rw-root=readonly',
        'echo nofile=$(ulimit -Sn):$(ulimit -Hn)',
        'echo mounts-order=$(cat /mnt/a/b/marker 2>&1)',
      ].join('\n'),
      (c) => {
        const rootfs = join(c.mounts.at(-1).source as string, '..', 'rootfs');
        writeFileSync(join(rootfs, 'etc/masked-file'), 'secret\n');
        mkdirSync(join(rootfs, 'etc/masked-dir'), { recursive: true });
        writeFileSync(join(rootfs, 'etc/masked-dir/f'), 'secret\n');
        mkdirSync(join(rootfs, 'etc/ro-dir'), { recursive: true });
        c.root.readonly = false;
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
        c.linux.maskedPaths = [...c.linux.maskedPaths, '/etc/masked-file', '/etc/masked-dir'];
        c.linux.readonlyPaths = [...c.linux.readonlyPaths, '/etc/ro-dir'];
        c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
        // The bind needs the tmpfs first: listed the other way round it would be hidden.
        const inner = join(rootfs, '..', 'inner');
        mkdirSync(inner, { recursive: true });
        writeFileSync(join(inner, 'marker'), 'bind-over-tmpfs\n');
        mkdirSync(join(rootfs, 'mnt/a'), { recursive: true });
        c.mounts.push({ destination: '/mnt/a', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] }, { destination: '/mnt/a/b', type: 'bind', source: inner, options: ['rbind', 'ro'] });
      },
    );
  const line = (i: Inside, key: string): string => {
    const v = i.lines.get(key);
    assert.ok(v !== undefined, `the container printed ${key}: ${[...i.lines.keys()].join(', ')}`);
    return v;
  };

  must('linux-namespaces-new', async () => {
    const i = await linuxChecks();
    for (const k of ['mnt', 'uts', 'ipc', 'pid']) assert.notEqual(line(i, `ns-${k}`), ns('self', k), `a new ${k} namespace`);
  });

  must('linux-namespaces-inherit', async () => {
    const i = await linuxChecks();
    assert.equal(line(i, 'ns-net'), ns('self', 'net'), 'the runtime network namespace');
  });

  must('linux-namespaces-duplicate', async () => {
    const b = bundle('dup-ns', { args: RAN, edit: (c) => c.linux.namespaces.push({ type: 'pid' }) });
    const id = newId('dup-ns');
    const r = await fails(['create', '--bundle', b.dir, id], 'create with the pid namespace listed twice');
    await assertGone(id);
    if (s.berth) {
      // berth's own check, before any backend: the invalid-bundle exit code and the spec's words.
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /linux\.namespaces\[\d\] lists type "pid" again; config-linux\.md, Namespaces/);
    }
  });

  must('linux-default-devices', async () => {
    const i = await linuxChecks();
    for (const d of DEVICES) assert.equal(line(i, `dev-${d}`), 'ok', `/dev/${d} is a character device`);
  });

  must('linux-masked-paths', async () => {
    const i = await linuxChecks();
    assert.equal(line(i, 'masked-file'), '', 'a masked file reads empty');
    assert.equal(line(i, 'masked-dir'), 'ok', 'a masked directory shows nothing');
  });

  must('linux-readonly-paths', async () => {
    const i = await linuxChecks();
    assert.equal(line(i, 'rw-root'), 'ok', 'the root is writable (the check means something)');
    assert.equal(line(i, 'ro-dir'), 'ok', 'a read-only path cannot be written');
  });

  must('mounts-order', async () => {
    const i = await linuxChecks();
    assert.equal(line(i, 'mounts-order'), 'bind-over-tmpfs', 'the bind made after the tmpfs it sits in');
  });

  must('root-readonly', async () => {
    const i = await inside('roroot', 'touch /probe 2>/dev/null && echo root=writable || echo root=ok; touch /tmp/probe && echo tmp=ok', (c) => (c.root.readonly = true));
    assert.equal(line(i, 'tmp'), 'ok', 'the container ran its checks');
    assert.equal(line(i, 'root'), 'ok', 'the root cannot be written');
  });

  must('process-rlimits', async () => {
    const i = await linuxChecks();
    assert.equal(line(i, 'nofile'), '321:654');
  });

  test(`every MUST has a test [${s.column}]`, () => {
    assert.deepEqual(MUSTS.map((m) => m.id).filter((id) => !covered.has(id)), []);
  });
}

/**
 * What a backend cannot do on this host whatever berth does, and why: a failing test of these
 * is a skip with the reason (a passing one still passes).
 */
const LIMITS: Record<string, Record<string, string>> = {
  lxc: {
    'hooks-order':
      "liblxc runs its mount hooks (createContainer) before its start-host hooks (prestart, createRuntime), in an order of its own; prestart and createRuntime stay at start-host, the only host hook that runs once the container's namespaces and pid exist",
  },
};

/** "raw crun" (and …) when every engine of the column failed MUST `id` in this run too. */
function inheritedFrom(column: string, id: string): string | undefined {
  const engines = ENGINES[column] ?? [];
  const failed = engines.filter((e) => outcomes[id]![e]?.result === 'fail');
  return engines.length > 0 && failed.length === engines.length ? failed.join(' and ') : undefined;
}

/** Whether a live process of the host has exactly this command line. */
function hostProcessWith(cmdline: string): boolean {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === cmdline && live(Number(pid))) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** A process that exists and is not a zombie (an orphaned init may wait unreaped). */
function live(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** One line for the table: the message, and what an assertion with its own message saw. */
function firstLine(err: unknown): string {
  const e = err as { message?: string; generatedMessage?: boolean; actual?: unknown; code?: string };
  let text = String(e?.message ?? err).split('\n')[0]!;
  if (e?.code === 'ERR_ASSERTION' && e.generatedMessage === false && e.actual !== undefined) text += `: ${JSON.stringify(e.actual)}`;
  // Stable across runs: temp paths and container ids say nothing about the outcome.
  text = text.replace(/time="[^"]*" /g, '').replace(/\/tmp\/berth-conf-[^/ ]+\/[^ "']*/g, '<bundle>').replace(/conf-[a-z]+-[a-zA-Z-]+-\d+/g, '<id>');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
