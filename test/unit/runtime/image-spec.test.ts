// runtime/image-spec: image defaults under the user's overrides, which always win.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STOP_SIGNAL_ANNOTATION } from '../../../src/core/oci/annotations.js';
import { runtimeConfigSchema } from '../../../src/core/oci/runtime-config.js';
import {
  hostnameFor,
  mergeEnv,
  processArgs,
  specFromImage,
  validateOverrides,
  type ImageOverrides,
} from '../../../src/runtime/image-spec.js';

const none: ImageOverrides = { args: [], env: [], cwd: undefined, user: undefined, hostname: undefined, memory: undefined, cpus: undefined, tty: false };
const root = { uid: 0, gid: 0, additionalGids: [], name: 'root' };

test('args: Entrypoint + Cmd; the user args replace Cmd only', () => {
  assert.deepEqual(processArgs({ Entrypoint: ['/bin/app'], Cmd: ['--serve'] }, []), ['/bin/app', '--serve']);
  assert.deepEqual(processArgs({ Entrypoint: ['/bin/app'], Cmd: ['--serve'] }, ['--check']), ['/bin/app', '--check']);
  assert.deepEqual(processArgs({ Cmd: ['sh'] }, ['echo', 'hi']), ['echo', 'hi']);
  assert.throws(() => processArgs({}, []), /no Entrypoint or Cmd/);
});

test('env: image values, PATH by default, user keys replace image keys', () => {
  assert.deepEqual(mergeEnv(['A=1', 'PATH=/x'], ['A=2', 'B=3']), ['A=2', 'PATH=/x', 'B=3']);
  assert.deepEqual(mergeEnv([], []), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.throws(() => mergeEnv([], ['=x']), /--env "=x" is not of the form KEY=VALUE/);
});

test('host name: the override, else the id when it is a valid host name', () => {
  assert.equal(hostnameFor('web-1', undefined), 'web-1');
  assert.equal(hostnameFor('a+b', undefined), 'berth');
  assert.equal(hostnameFor('web-1', 'db'), 'db');
});

test('overrides are checked before anything is made', () => {
  assert.throws(() => validateOverrides({ ...none, cwd: 'rel' }), /--cwd "rel" must be an absolute path/);
  assert.throws(() => validateOverrides({ ...none, hostname: 'a b' }), /--hostname "a b"/);
  assert.throws(() => validateOverrides({ ...none, memory: 1024 }), /--memory must be at least 4M/);
  assert.throws(() => validateOverrides({ ...none, cpus: 0 }), /--cpus must be at least 0.01/);
  assert.throws(() => validateOverrides({ ...none, env: ['NOEQUALS'] }), /--env "NOEQUALS"/);
  validateOverrides({ ...none, cwd: '/srv', hostname: 'db.local', memory: 64 * 1024 * 1024, cpus: 0.5, env: ['A='] });
});

test('the spec: image defaults, then overrides, valid for the OCI schema berth checks bundles with', () => {
  const image = { Entrypoint: ['/bin/app'], Cmd: ['-v'], Env: ['A=1'], WorkingDir: '/srv', User: 'www', StopSignal: 'SIGQUIT' };
  const plain = specFromImage({ id: 'c1', rootfs: '/vol/c1', digest: 'sha256:ab', ref: 'app:1', image, overrides: none, user: root }) as any;
  assert.deepEqual(plain.process.args, ['/bin/app', '-v']);
  assert.equal(plain.process.cwd, '/srv');
  assert.equal(plain.process.terminal, false);
  assert.deepEqual(plain.root, { path: '/vol/c1', readonly: false });
  assert.equal(plain.hostname, 'c1');
  assert.deepEqual(plain.annotations, { 'run.berth.image.digest': 'sha256:ab', 'run.berth.image.ref': 'app:1', [STOP_SIGNAL_ANNOTATION]: 'SIGQUIT' });
  assert.equal(plain.linux.resources.memory, undefined);
  assert.ok(runtimeConfigSchema.safeParse(plain).success);

  const o: ImageOverrides = { args: ['-q'], env: ['A=2'], cwd: '/tmp', user: '5', hostname: 'h', memory: 64 << 20, cpus: 1.5, tty: true };
  const over = specFromImage({ id: 'c1', rootfs: '/vol/c1', digest: 'sha256:ab', ref: undefined, image, overrides: o, user: { uid: 5, gid: 6, additionalGids: [7], name: undefined } }) as any;
  assert.deepEqual(over.process.args, ['/bin/app', '-q']);
  assert.ok(over.process.env.includes('A=2') && !over.process.env.includes('A=1'));
  assert.equal(over.process.cwd, '/tmp');
  assert.deepEqual(over.process.user, { uid: 5, gid: 6, additionalGids: [7] });
  assert.equal(over.process.terminal, true);
  assert.equal(over.hostname, 'h');
  assert.deepEqual(over.linux.resources.memory, { limit: 64 << 20 });
  assert.deepEqual(over.linux.resources.cpu, { quota: 150000, period: 100000 });
  assert.equal(over.annotations['run.berth.image.ref'], undefined);
  assert.ok(runtimeConfigSchema.safeParse(over).success);
});
