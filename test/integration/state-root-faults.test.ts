// A state root (--root) on a small tmpfs that goes read-only or fills up, and what killed berth
// processes leave behind (issue 14, items 7 and 8), on crun-cli, crun-abi and runc:
// - read-only: state, list, ps, exec and kill of a running container work; the verbs that must
//   write a record (pause, delete) fail before they change anything, naming the read-only root;
//   doctor reports it instead of crashing;
// - full: create fails with one line naming the file that could not be written (ENOSPC), leaves
//   no record (torn or whole) and no backend container, and the running one is untouched;
// - residue: the runtime's per-call logs of berth processes killed mid-call, and container
//   directories without a record, are gone after the next verb.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, ftruncateSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk, type BerthResult } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir, walk } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { ALL_BACKENDS, alive, missing } from '../helpers/host.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const notRoot = process.getuid?.() === 0 ? undefined : 'needs root (mounts a tmpfs as the state root)';
const OCI_CLI = ALL_BACKENDS.filter((b) => b.tool !== 'lxc');

const work = tempDir('berth-root-faults-');
after(() => work.remove());

// Hermetic: no config from the environment, call logs under the suite's own TMPDIR.
const tmpdir = join(work.path, 'tmp');
mkdirSync(tmpdir);
const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmpdir };
delete env.BERTH_CONFIG;
const callLogDir = join(tmpdir, `berth-calls-${process.getuid?.() ?? 0}`);

let bundle = '';
before(() => {
  if (missing('busybox') === undefined) bundle = makeBusyboxBundle(join(work.path, 'bundle'));
});

let seq = 0;
/** A fresh tmpfs of `sizeMiB` with the state root in it; unmounted after the test. */
function mountRoot(t: { after: (fn: () => void) => void }, sizeMiB: number): { mnt: string; root: string } {
  const mnt = join(work.path, `mnt-${seq++}`);
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', mnt]);
  t.after(() => {
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return { mnt, root: join(mnt, 'root') };
}

function remount(mnt: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, mnt]);
}

const run = (root: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<BerthResult> => berth(['--root', root, ...args], { env: { ...env, ...extraEnv } });
const ok = (root: string, args: string[]): Promise<string> => berthOk(root, args, { env });

async function state(root: string, id: string): Promise<{ status: string; pid: number }> {
  return JSON.parse(await ok(root, ['state', id])) as { status: string; pid: number };
}

/** The last line of stderr is the error (a read-only root adds warnings about its journal before it). */
function lastLine(r: BerthResult): string {
  return r.stderr.trimEnd().split('\n').pop() ?? '';
}

/** No berth error line on stderr: at most warnings. */
function assertNoError(r: BerthResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.ok(!r.stderr.split('\n').some((l) => l.startsWith('berth: ')), `${what}: ${r.stderr}`);
}

function assertRootEmpty(root: string): void {
  const left = walk(root).filter((p) => !['@berth/', '@berth/containers/', '@berth/crun/', '@berth/runc/', '@berth/identity.json'].includes(p) && !/^@berth\/journal\//.test(p));
  assert.deepEqual(left, [], `left behind under the root: ${left.join(', ')}`);
  assert.deepEqual(rootCgroups(root), [], 'container cgroups left behind');
}

for (const { name: backend, tool, skip, ids } of OCI_CLI) {
  describe(`a read-only state root on ${backend}`, { skip: skip ?? notRoot }, () => {
    test('a running container: state, list, ps, exec and kill work; pause and delete refuse, naming the root; doctor reports it', async (t) => {
      const { mnt, root } = mountRoot(t, 16);
      await ok(root, ['--runtime', backend, 'run', '-d', '--bundle', bundle, 'ro1']);
      const { pid } = await state(root, 'ro1');
      try {
        remount(mnt, 'ro');
        assert.equal((await state(root, 'ro1')).status, 'running');
        assert.match(await ok(root, ['list']), /^ro1\s+\d+\s+running\s/m);
        const ps = await run(root, ['ps', '--format', 'json', 'ro1']);
        assertNoError(ps, 'ps');
        assert.ok((JSON.parse(ps.stdout) as number[]).includes(pid), ps.stdout);
        // 0.8.0: 'crun exec ... failed: : Read-only file system' (crun could not open its log under the root).
        assertNoError(await run(root, ['exec', 'ro1', 'true']), 'exec');

        for (const [verb, args] of [['pause', ['pause', 'ro1']], ['delete', ['delete', '--force', 'ro1']]] as const) {
          const r = await run(root, [...args]);
          assert.equal(r.code, 10, `${verb}: ${r.stderr}`);
          assert.equal(
            lastLine(r),
            `berth: cannot ${verb} container "ro1": state root ${root} is on a read-only file system, and berth keeps its container records there; remount it read-write and try again (state, list, kill, ps and exec work meanwhile)`,
          );
          assert.equal((await state(root, 'ro1')).status, 'running', `${verb} changed nothing`);
        }

        const doctor = await run(root, ['doctor']);
        assert.equal(doctor.code, 2, `doctor reports a failure, it does not crash: ${doctor.stderr}`);
        assert.ok(doctor.stdout.includes(`FAIL  state: ${root} is not writable (its file system is mounted read-only)`), doctor.stdout);

        assertNoError(await run(root, ['kill', 'ro1', 'KILL']), 'kill');
        await waitFor('the container to stop', async () => (await state(root, 'ro1')).status === 'stopped');
      } finally {
        remount(mnt, 'rw');
        await run(root, ['delete', '--force', 'ro1']);
      }
      assert.deepEqual(ids(root), []);
      assertRootEmpty(root);
    });
  });

  describe(`a full state root on ${backend}`, { skip: skip ?? notRoot }, () => {
    /** Fills the file system with one file; `leave` bytes are freed again at the end. */
    function fill(mnt: string, leave = 0): string {
      const path = join(mnt, 'filler');
      const fd = openSync(path, 'w');
      const chunk = Buffer.alloc(1024 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      // Single pages may still be free: fill them too.
      const page = Buffer.alloc(4096);
      try {
        for (;;) writeSync(fd, page);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      if (leave > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leave));
      closeSync(fd);
      return path;
    }

    test('create fails naming the file it could not write (ENOSPC), leaves no record, and the running container is untouched', async (t) => {
      const { mnt, root } = mountRoot(t, 16);
      await ok(root, ['--runtime', backend, 'run', '-d', '--bundle', bundle, 'alive']);
      const before = await state(root, 'alive');
      const recordBefore = readFileSync(join(berthStateDir(root), 'containers/alive/record.json'), 'utf8');
      // A bundle whose record is larger than what is left: the write fills the disk part-way.
      const big = makeBusyboxBundle(join(work.path, `big-${seq++}`), { annotations: { big: 'x'.repeat(64 * 1024) } });
      try {
        for (const [name, leave, from] of [
          ['nothing left', 0, bundle],
          ['16 KiB left, a 64 KiB record', 16 * 1024, big],
        ] as const) {
          const filler = fill(mnt, leave);
          try {
            const r = await run(root, ['--runtime', backend, 'create', '--bundle', from, 'c2']);
            assert.equal(r.code, 8, `${name}: ${r.stderr}`);
            // 0.8.0: "ENOSPC: no space left on device, write", naming no file.
            assert.match(lastLine(r), new RegExp(`^berth: cannot write ${root}/\\S+: no space left on its file system \\(ENOSPC\\); free some space there and try again$`), name);
            assert.equal(existsSync(join(berthStateDir(root), 'containers/c2')), false, `${name}: no record, torn or whole, and no directory`);
            assert.deepEqual(ids(root), ['alive'], `${name}: no ${tool} container c2`);
            assert.deepEqual(await state(root, 'alive'), before);
            assert.equal(readFileSync(join(berthStateDir(root), 'containers/alive/record.json'), 'utf8'), recordBefore);
          } finally {
            rmSync(filler);
          }
        }
        // With room again, the same create works.
        await ok(root, ['--runtime', backend, 'create', '--bundle', bundle, 'c2']);
      } finally {
        for (const id of ['c2', 'alive']) await run(root, ['delete', '--force', id]);
      }
      assert.deepEqual(ids(root), []);
      assertRootEmpty(root);
    });
  });
}

/** A wrapper around the real runtime that sleeps after `kill`, so berth can be killed mid-call. */
function slowKillWrapper(tool: 'crun' | 'runc'): string {
  const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  const path = join(work.path, `slow-kill-${tool}`);
  writeFileSync(path, `#!/bin/sh\n"${real}" "$@"; rc=$?\nfor a in "$@"; do [ "$a" = kill ] && sleep 30; done\nexit $rc\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Everything a runtime call log could be, under the root (0.8.0: <root>/<tool>/.call-*.log) and in the private log directory. */
function callLogs(root: string): string[] {
  const underRoot = walk(root).filter((p) => /(^|\/)\.call-\d+-\d+\.log$/.test(p));
  const private_ = existsSync(callLogDir) ? readdirSync(callLogDir) : [];
  return [...underRoot, ...private_.map((f) => `${callLogDir}/${f}`)];
}

for (const { name: backend, tool, skip, ids } of OCI_CLI.filter((b) => b.name !== 'crun-abi')) {
  describe(`residue on ${backend}`, { skip: skip ?? notRoot }, () => {
    test('berth killed in the middle of runtime calls: no call log is left once the next verb ran', async () => {
      const root = join(work.path, `residue-${seq++}`);
      const config = join(work.path, `slow-${seq++}.toml`);
      writeFileSync(config, `[runtimes.${tool}]\npath = "${slowKillWrapper(tool as 'crun' | 'runc')}"\n`);
      await berthOk(root, ['--config', config, '--runtime', backend, 'run', '-d', '--bundle', bundle, 'r1'], { env });
      const KILLS = 3;
      try {
        for (let i = 0; i < KILLS; i++) {
          const child = spawn(BERTH_BIN, ['--root', root, '--config', config, 'kill', 'r1', 'CONT'], { env, detached: true, stdio: 'ignore' });
          const pid = child.pid!;
          // The wrapper sleeps once the runtime's kill has run: by then its log file exists.
          await waitFor(`berth ${pid}'s runtime call to begin`, () => callLogs(root).some((f) => f.includes(`${pid}-`)));
          process.kill(-pid, 'SIGKILL');
          await waitFor(`berth ${pid} to die`, () => !alive(pid) || undefined);
        }
        // The next verb that calls the runtime sweeps the logs of the dead.
        await berthOk(root, ['--config', config, 'ps', 'r1'], { env });
        assert.deepEqual(callLogs(root), [], `call logs left after ${KILLS} kills`);
      } finally {
        await berth(['--root', root, 'delete', '--force', 'r1'], { env });
      }
      assert.deepEqual(ids(root), []);
      assertRootEmpty(root);
    });

    test('container directories without a record (a killed create or delete) are removed by the next verb touching them', async () => {
      const root = join(work.path, `hollow-${seq++}`);
      await berthOk(root, ['--runtime', backend, 'create', '--bundle', bundle, 'real'], { env });
      try {
        const containers = join(berthStateDir(root), 'containers');
        mkdirSync(join(containers, 'ghost1'));
        mkdirSync(join(containers, 'ghost2'));
        writeFileSync(join(containers, 'ghost2', 'backend-config.json'), '{}');
        writeFileSync(join(containers, 'ghost2', `.record.json.tmp-999999`), '{"id":');
        mkdirSync(join(containers, 'ghost3'));
        const list = await berthOk(root, ['list', '--quiet'], { env });
        assert.deepEqual(list.split('\n').filter(Boolean), ['real']);
        assert.deepEqual(readdirSync(containers).sort(), ['real'], 'list swept the directories without a record');
        mkdirSync(join(containers, 'ghost4'));
        const del = await berth(['--root', root, 'delete', '--force', 'ghost4'], { env });
        assert.equal(del.code, 0, del.stderr);
        assert.deepEqual(readdirSync(containers).sort(), ['real'], 'delete --force swept its directory');
      } finally {
        await berth(['--root', root, 'delete', '--force', 'real'], { env });
      }
      assert.deepEqual(ids(root), []);
      assertRootEmpty(root);
    });
  });
}
