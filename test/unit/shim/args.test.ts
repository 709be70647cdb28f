// The shim's command line: what containerd 1.6 passes (runtime/v2/shim/util.go, binary.go) in
// Go's flag syntax, and what the entry does with it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { UsageError } from '../../../src/core/errors.js';
import { HelpRequested, parseShimArgs, SHIM_FLAGS, shimUsage } from '../../../src/shim/args.js';
import { runShim, SHIM_PROGRAM } from '../../../src/shim/main.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const COMMON = ['-namespace', 'k8s.io', '-address', '/run/containerd/containerd.sock', '-publish-binary', '/usr/bin/containerd'];
const ENV = { TTRPC_ADDRESS: '/run/containerd/containerd.sock.ttrpc' };

test('start, as containerd runs it (cwd is the bundle, TTRPC_ADDRESS in the environment)', () => {
  assert.deepEqual(parseShimArgs([...COMMON, '-id', 'c1', 'start'], ENV), {
    action: 'start',
    namespace: 'k8s.io',
    id: 'c1',
    address: '/run/containerd/containerd.sock',
    publishBinary: '/usr/bin/containerd',
    bundle: '',
    socket: '',
    debug: false,
    version: false,
    ttrpcAddress: '/run/containerd/containerd.sock.ttrpc',
  });
  // containerd adds -debug after -id when its own log level is debug.
  const dbg = parseShimArgs([...COMMON, '-id', 'c1', '-debug', 'start'], ENV);
  assert.equal(dbg.debug, true);
  assert.equal(dbg.action, 'start');
});

test('delete, as containerd runs it (with -bundle)', () => {
  const a = parseShimArgs([...COMMON, '-id', 'c2', '-bundle', '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c2', 'delete'], ENV);
  assert.deepEqual([a.action, a.id, a.bundle], ['delete', 'c2', '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c2']);
});

test('no action is the resident server', () => {
  const a = parseShimArgs(['-namespace', 'default', '-id', 'c3', '-address', '/s'], {});
  assert.equal(a.action, 'serve');
  assert.equal(a.ttrpcAddress, '');
  assert.equal(a.publishBinary, 'containerd', "Go's default for -publish-binary");
});

test("Go's flag syntax: -name=value, --name, -bool=false, options end at the action or --", () => {
  const a = parseShimArgs(['--namespace=ns', '-id=x', '--address', '/s', '-debug=true', '-debug=false', 'start'], {});
  assert.deepEqual([a.namespace, a.id, a.address, a.debug, a.action], ['ns', 'x', '/s', false, 'start']);
  assert.equal(parseShimArgs(['-namespace', 'ns', '-id', 'x', '-address', '/s', '--', 'delete'], {}).action, 'delete');
  // A value may itself start with a dash.
  assert.equal(parseShimArgs(['-namespace', 'ns', '-id', '-weird', '-address', '/s', 'start'], {}).id, '-weird');
  assert.equal(parseShimArgs(['-v'], {}).version, true, '-v needs nothing else');
});

test('bad command lines are usage errors naming the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-bogus', 'start'], /flag provided but not defined: -bogus/],
    [['-namespace'], /flag needs an argument: -namespace/],
    [['---x'], /bad flag syntax: ---x/],
    [['-debug=maybe'], /invalid boolean value "maybe" for -debug/],
    [['-id', 'x', '-address', '/s', 'start'], /shim namespace cannot be empty/],
    [['-namespace', 'n', '-address', '/s', 'start'], /needs the task id \(-id\) for start/],
    [['-namespace', 'n', '-id', 'x', 'start'], /needs containerd's address \(-address\) for start/],
    [['-namespace', 'n', '-id', 'x', '-address', '/s', 'stop'], /unknown action "stop": the shim takes start or delete/],
    [['-namespace', 'n', '-id', 'x', '-address', '/s', 'start', 'more'], /unexpected arguments after "start": more/],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseShimArgs(argv, {}), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(' '));
  assert.throws(() => parseShimArgs(['-h'], {}), HelpRequested);
  assert.throws(() => parseShimArgs(['--help'], {}), HelpRequested);
});

test('the usage text lists every flag', () => {
  const usage = shimUsage(SHIM_PROGRAM);
  for (const name of Object.keys(SHIM_FLAGS)) assert.match(usage, new RegExp(`^  -${name}\\b`, 'm'));
});

function capture(): { io: Parameters<typeof runShim>[1] & object; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (s) => (out += s), stderr: (s) => (err += s), stdoutBytes: () => undefined, env: ENV }, out: () => out, err: () => err };
}

test('the entry: usage error 2, -h 0, -v prints the version, a failing action fails with 1 naming the task', async () => {
  let c = capture();
  assert.equal(await runShim(['-bogus'], c.io), 2);
  assert.match(c.err(), /^containerd-shim-berth-v2: flag provided but not defined: -bogus\nUsage of containerd-shim-berth-v2:/);
  assert.equal(c.out(), '', 'nothing on stdout: containerd reads it as the address');

  c = capture();
  assert.equal(await runShim(['-h'], c.io), 0);
  assert.match(c.err(), /^Usage of /);

  c = capture();
  assert.equal(await runShim(['-v'], c.io), 0);
  assert.match(c.out(), /^containerd-shim-berth-v2:\n {2}Version: {2}\d+\.\d+\.\d+/);

  for (const action of ['start', 'delete']) {
    c = capture();
    // A namespace containerd itself would refuse: the action fails before it touches anything.
    assert.equal(await runShim(['-namespace', 'no/such', '-address', '/s', '-id', 'c9', action], c.io), 1);
    assert.equal(c.err(), 'c9: invalid containerd namespace "no/such"\n');
    assert.equal(c.out(), '');
  }
});

test('the launcher in bin/ runs the entry with its argv and exit status', async () => {
  const bin = join(REPO_ROOT, 'bin', SHIM_PROGRAM);
  const v = await promisify(execFile)(bin, ['-v']);
  assert.match(v.stdout, /Version:/);
  await assert.rejects(promisify(execFile)(bin, ['-namespace', 'n', '-id', 'x', 'start']), (err: { code?: number; stderr?: string }) => err.code === 2 && /-address/.test(err.stderr ?? ''));
});
