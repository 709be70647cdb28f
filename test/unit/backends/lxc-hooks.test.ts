// The hooks the lxc backend runs itself: the state on stdin, the timeout, and what a failure does.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { attachArgv, containerPid } from '../../../src/backends/lxc/lxc-hooks.js';
import { hookState, onHost, runOciHooks } from '../../../src/backends/oci-hooks.js';
import { runtimeConfigSchema } from '../../../src/core/oci/runtime-config.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-lxc-hooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = runtimeConfigSchema.parse({ ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/' }, root: { path: 'rootfs' }, annotations: { a: 'b' }, linux: { namespaces: [{ type: 'pid' }] } });
const state = hookState(config, 'c1', '/b', 'running', 42);
const sh = (script: string, timeout?: number) => ({ path: '/bin/sh', args: ['sh', '-c', script], ...(timeout ? { timeout } : {}) });

describe('runOciHooks', () => {
  test('each hook gets the state on stdin, in order', async () => {
    const out = join(dir, 'order');
    assert.equal(await runOciHooks('lxc', 'poststart', [sh(`cat > ${out}.1; echo 1 >> ${out}`), sh(`echo 2 >> ${out}`)], state, onHost), undefined);
    assert.deepEqual(JSON.parse(readFileSync(`${out}.1`, 'utf8')), { ociVersion: '1.0.2', id: 'c1', status: 'running', pid: 42, bundle: '/b', annotations: { a: 'b' } });
    assert.equal(readFileSync(out, 'utf8'), '1\n2\n');
  });

  test('poststart and poststop: a failure is reported, the later hooks still run', async () => {
    const out = join(dir, 'after-failure');
    const failed = await runOciHooks('lxc', 'poststop', [sh('echo oops >&2; exit 4'), sh(`echo ran > ${out}`)], state, onHost);
    assert.equal(failed, 'poststop hook 0 (/bin/sh) failed: oops');
    assert.equal(readFileSync(out, 'utf8'), 'ran\n');
  });

  test('startContainer: the first failure stops the rest', async () => {
    const out = join(dir, 'never');
    const failed = await runOciHooks('lxc', 'startContainer', [sh('exit 1'), sh(`echo ran > ${out}`)], state, onHost);
    assert.equal(failed, 'startContainer hook 0 (/bin/sh) failed: exit 1');
    assert.throws(() => readFileSync(out), /ENOENT/);
  });

  test('a hook past its timeout is aborted, a hook that ignores its stdin is fine', async () => {
    const t0 = Date.now();
    assert.equal(await runOciHooks('lxc', 'startContainer', [sh('sleep 20', 1)], state, onHost), 'startContainer hook 0 (/bin/sh) failed: timed out after 1 s');
    assert.ok(Date.now() - t0 < 5000, `aborted after ${Date.now() - t0} ms`);
    assert.equal(await runOciHooks('lxc', 'poststart', [sh('exit 0')], state, onHost), undefined);
  });

  test("args[0] is the hook's argv[0]: a multi-call binary (dockerd's libnetwork-setkey, busybox) picks its applet by it", async () => {
    const out = join(dir, 'argv0');
    // busybox run as "sh" is the shell; run as "/bin/busybox" it would take "-c" for an applet name.
    assert.equal(await runOciHooks('lxc', 'poststart', [{ path: '/bin/busybox', args: ['sh', '-c', `echo "$0" > ${out}`] }], state, onHost), undefined);
    assert.equal(readFileSync(out, 'utf8'), 'sh\n');
  });

  test('env: exactly the hook\'s own on the host', async () => {
    const out = join(dir, 'env');
    await runOciHooks('lxc', 'poststart', [{ ...sh(`echo "$A:$HOME" > ${out}`), env: ['A=1'] }], state, onHost);
    assert.equal(readFileSync(out, 'utf8'), '1:\n');
  });
});

describe('in the container', () => {
  test('lxc-attach runs berth\'s init with the hook\'s env and argv', () => {
    const argv = attachArgv(['lxc-attach', '-n', 'c1'], '/.berth-init', { path: '/bin/x', args: ['x', 'a b'], env: ['K=V'] }, (a) => `<${a}>`);
    assert.deepEqual(argv, ['lxc-attach', '-n', 'c1', '--', '/.berth-init', '<--cwd>', '</>', '<--env>', '<K=V>', '<-->', '</bin/x>', '<a b>']);
  });

  test('the pid a hook in the container sees: 1 in a new pid namespace, else the host\'s', () => {
    assert.equal(containerPid(config, 42), 1);
    assert.equal(containerPid(runtimeConfigSchema.parse({ ...config, linux: { namespaces: [{ type: 'pid', path: '/proc/1/ns/pid' }] } }), 42), 42);
  });
});
