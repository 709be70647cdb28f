// containerd as a real client of berth: a private containerd, a busybox OCI image built by hand,
// and `ctr` driving berth through the runc shim (`--runc-binary`), with crun and runc behind it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { berth } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { run, shimPids, startContainerd, type Containerd } from '../helpers/containerd.js';
import { missing } from '../helpers/host.js';
import { buildBusyboxOciArchive, importImage } from '../helpers/oci-image.js';
import { BERTH_BIN } from '../helpers/paths.js';

const NAMESPACE = 'berth-e2e';
const skip = missing('containerd', 'ctr', 'tar', 'crun', 'runc');

interface TaskRow {
  id: string;
  pid: number;
  status: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `ctr task ls`: TASK PID STATUS. */
async function tasks(cd: Containerd): Promise<TaskRow[]> {
  const out = await cd.ctrOk(['task', 'ls']);
  return out
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3)
    .map(([id, pid, status]) => ({ id: id!, pid: Number(pid), status: status! }));
}

async function taskStatus(cd: Containerd, id: string): Promise<string | undefined> {
  return (await tasks(cd)).find((t) => t.id === id)?.status;
}

/** berth's own view of the shim's state root: id → backend. */
async function berthContainers(cd: Containerd): Promise<Map<string, string>> {
  if (!existsSync(cd.berthRoot)) return new Map();
  const r = await run(BERTH_BIN, ['--root', cd.berthRoot, 'list', '--format', 'json']);
  assert.equal(r.code, 0, `berth list: ${r.stderr}`);
  const entries = JSON.parse(r.stdout) as Array<{ id: string; backend: string }>;
  return new Map(entries.map((e) => [e.id, e.backend]));
}

test('containerd runs containers through berth', { skip, timeout: 300_000 }, async (t) => {
  const work = tempDir('berth-e2e-ctr-');
  t.after(() => work.remove());
  const cd = await startContainerd({ namespace: NAMESPACE });
  t.after(() => cd.stop());

  const image = await importImage(cd, buildBusyboxOciArchive(join(work.path, 'image')));
  assert.equal(image, 'localhost/busybox:latest');

  // The shim passes berth no environment of ours: the runc backend is chosen with a wrapper
  // that adds --config (a global option, so it may come before the shim's own).
  const runcConfig = join(work.path, 'berth-runc.toml');
  writeFileSync(runcConfig, 'default_runtime = "runc"\n');
  const runcWrapper = join(work.path, 'berth-runc');
  writeFileSync(runcWrapper, `#!/bin/sh\nexec ${JSON.stringify(BERTH_BIN)} --config ${JSON.stringify(runcConfig)} "$@"\n`);
  chmodSync(runcWrapper, 0o755);

  const binaries = { crun: BERTH_BIN, runc: runcWrapper } as const;

  for (const backend of ['crun', 'runc'] as const) {
    const runcBinary = ['--runc-binary', binaries[backend]];

    await t.test(`${backend}: ctr run --rm prints the container's output`, async () => {
      const r = await cd.ctr(['run', '--rm', ...runcBinary, image, `hello-${backend}`, 'echo', 'hello-berth']);
      assert.equal(r.code, 0, `ctr run failed: ${r.stderr}`);
      assert.match(r.stdout, /hello-berth/);
      assert.equal((await berthContainers(cd)).has(`hello-${backend}`), false, '--rm deleted the container in berth too');
    });

    await t.test(`${backend}: detached task: exec, ps, pause, resume, kill, delete`, async () => {
      const id = `sleeper-${backend}`;
      await cd.ctrOk(['run', '-d', ...runcBinary, image, id, 'sleep', '300']);
      // crun is auto: recorded as what it resolved to; one berth process per verb → the crun CLI.
      const expected = backend === 'crun' ? 'crun-cli' : backend;
      assert.equal((await berthContainers(cd)).get(id), expected, `berth created ${id} with ${expected}`);
      const task = await waitFor(`${id} RUNNING`, async () => (await tasks(cd)).find((x) => x.id === id && x.status === 'RUNNING'));
      assert.ok(task.pid > 0);

      const exec = await cd.ctr(['task', 'exec', '--exec-id', 'e1', id, 'echo', 'exec-ok']);
      assert.equal(exec.code, 0, `ctr task exec failed: ${exec.stderr}`);
      assert.match(exec.stdout, /exec-ok/);

      const ps = await cd.ctrOk(['task', 'ps', id]);
      assert.match(ps, /^PID\s+INFO/m);
      assert.match(ps, new RegExp(`^${task.pid}\\b`, 'm'), `ctr task ps lists the init pid ${task.pid}:\n${ps}`);

      await cd.ctrOk(['task', 'pause', id]);
      assert.equal(await taskStatus(cd, id), 'PAUSED');
      await cd.ctrOk(['task', 'resume', id]);
      assert.equal(await taskStatus(cd, id), 'RUNNING');

      await cd.ctrOk(['task', 'kill', '-s', 'KILL', id]);
      await waitFor(`${id} STOPPED`, async () => (await taskStatus(cd, id)) === 'STOPPED' || undefined, 20_000);
      await cd.ctrOk(['task', 'delete', id]);
      await cd.ctrOk(['container', 'delete', id]);
      assert.equal(await taskStatus(cd, id), undefined);
      assert.equal((await berthContainers(cd)).has(id), false, `berth no longer knows ${id}`);
    });

    await t.test(`${backend}: ctr run -t gets a terminal through the console socket`, async () => {
      // ctr needs a terminal of its own for -t: script(1) gives it one. The shim passes berth
      // --console-socket; the backend sends the pty master through it.
      const id = `tty-${backend}`;
      const ctr = ['ctr', '-a', cd.socket, '-n', cd.namespace, 'run', '-t', '--rm', ...runcBinary, image, id, 'sh', '-c', 'tty; test -t 0 && echo stdin-is-a-tty'];
      const r = await run('script', ['-qec', ctr.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null'], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `ctr run -t failed: ${r.stdout} ${r.stderr}`);
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
      assert.match(r.stdout, /stdin-is-a-tty/);
      assert.equal((await berthContainers(cd)).has(id), false);
    });

    await t.test(`${backend}: a failing create shows the backend's error through containerd`, async () => {
      const id = `badexec-${backend}`;
      const r = await cd.ctr(['run', '--rm', ...runcBinary, image, id, '/nonexistent-binary']);
      assert.notEqual(r.code, 0, 'ctr run of a missing binary must fail');
      // The shim reports the msg of berth's last "level":"error" log line:
      //   ctr: failed to create shim task: OCI runtime create failed: crun create of container
      //   "badexec-crun" failed: executable file `/nonexistent-binary` not found in $PATH: …: unknown
      assert.match(r.stderr, /OCI runtime create failed: /);
      assert.ok(r.stderr.includes(`${backend} create of container "${id}" failed: `), `berth's message in: ${r.stderr}`);
      assert.match(r.stderr, /\/nonexistent-binary/);
      assert.match(r.stderr, /no such file or directory/i);
      assert.equal((await berthContainers(cd)).has(id), false, 'the failed container is gone from berth');
      await cd.ctr(['container', 'delete', id]);
    });
  }

  await t.test("the shim's cleanup (delete --force of a deleted container) did not fail", () => {
    const warnings = cd.log().split('\n').filter((l) => l.includes('failed to remove runc container'));
    assert.deepEqual(warnings.filter((l) => l.includes('does not exist')), []);
  });

  await t.test('stopping containerd leaves no shim, state or mount behind', async () => {
    const { dir, socket, berthRoot } = cd;
    await cd.stop();
    assert.deepEqual(shimPids(socket), [], 'no shim of this containerd is left');
    assert.equal(existsSync(berthRoot), false, `${berthRoot} is removed`);
    assert.equal(existsSync(dir), false, `${dir} is removed`);
    assert.equal(existsSync(join('/run/containerd/runc', NAMESPACE)), false);
    assert.equal(existsSync(join('/sys/fs/cgroup/memory', NAMESPACE)), false, 'the namespace cgroup is removed');
  });
});

test('delete --force of an unknown container succeeds, as with runc and crun', async (t) => {
  // The shim's cleanup runs it after every task delete; a failure there is logged by containerd.
  const root = tempDir('berth-e2e-root-');
  t.after(() => root.remove());
  const forced = await berth(['--root', root.path, 'delete', '--force', 'no-such-container']);
  assert.equal(forced.code, 0, forced.stderr);
  const plain = await berth(['--root', root.path, 'delete', 'no-such-container']);
  assert.equal(plain.code, 4, 'without --force it is still an error');
  assert.match(plain.stderr, /does not exist/);
});
