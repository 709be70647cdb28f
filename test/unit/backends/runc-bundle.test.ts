import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { RUNC_CONFIG_FILE, inRuntimeNamespace, runcInvocation } from '../../../src/backends/oci-cli/runc-bundle.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-runc-bundle-');
after(() => tmp.remove());
let n = 0;

function setUp(config: object, backendConfig: object) {
  const base = join(tmp.path, `c${n++}`);
  const bundle = join(base, 'bundle');
  const state = join(base, 'state');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  mkdirSync(state);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 4));
  writeFileSync(join(bundle, 'hook-data'), 'x');
  writeFileSync(join(state, 'backend-config.json'), JSON.stringify(backendConfig));
  return { bundle, config: join(state, 'backend-config.json'), state };
}

describe('runc\'s bundle and config', () => {
  test('the user\'s bundle as it is when its config.json is the backend config (formatting aside)', () => {
    const c = { ociVersion: '1.0.2', root: { path: '/abs' }, linux: { cgroupsPath: '/p' } };
    const r = setUp(c, c);
    assert.deepEqual(runcInvocation(r), { prefix: [], bundle: r.bundle });
    assert.equal(existsSync(join(r.state, RUNC_CONFIG_FILE)), false, 'no config of its own written');
  });

  test('otherwise the user\'s bundle still, with runc\'s config bind-mounted over its config.json in a mount namespace of its own', () => {
    const r = setUp({ ociVersion: '1.0.2', root: { path: 'rootfs' } }, { ociVersion: '1.0.2', root: { path: '/abs/rootfs' }, linux: { cgroupsPath: '/p' } });
    const adjusted = runcInvocation(r, (c) => ({ ...c, hooks: {} }));
    assert.equal(adjusted.bundle, r.bundle);
    const file = join(r.state, RUNC_CONFIG_FILE);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { ociVersion: '1.0.2', root: { path: '/abs/rootfs' }, linux: { cgroupsPath: '/p' }, hooks: {} });
    assert.deepEqual(adjusted.prefix.slice(0, 5), ['unshare', '--mount', '--propagation', 'slave', '--']);
    assert.deepEqual(adjusted.prefix.slice(-2), [file, join(r.bundle, 'config.json')], 'the paths are arguments, never part of the script');
  });

  test('the prefix really shows runc the config in place of the bundle\'s, and leaves the host\'s file as it was', { skip: process.getuid?.() === 0 ? undefined : 'mounting needs root' }, () => {
    const r = setUp({ ociVersion: '1.0.2', root: { path: 'rootfs' } }, { ociVersion: '1.0.2', root: { path: '/abs/rootfs' } });
    const { prefix } = runcInvocation(r);
    const seen = execFileSync(prefix[0]!, [...prefix.slice(1), 'cat', join(r.bundle, 'config.json')], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(seen), { ociVersion: '1.0.2', root: { path: '/abs/rootfs' } });
    assert.deepEqual(JSON.parse(readFileSync(join(r.bundle, 'config.json'), 'utf8')), { ociVersion: '1.0.2', root: { path: 'rootfs' } });
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(r.bundle, 'config.json')), 'no mount left on the host');
  });

  test('hooks runc runs on the host at create enter berth\'s mount namespace first; the others are as given', () => {
    const config = { x: 1, hooks: { prestart: [{ path: '/bin/a', args: ['a0', '1'], timeout: 3 }], createRuntime: [{ path: '/bin/b' }], createContainer: [{ path: '/bin/c' }], poststop: [{ path: '/bin/d' }] } };
    assert.deepEqual(inRuntimeNamespace(config, 77), {
      x: 1,
      hooks: {
        prestart: [{ path: '/usr/bin/nsenter', args: ['nsenter', '--mount=/proc/77/ns/mnt', '--', '/bin/a', '1'], timeout: 3 }],
        createRuntime: [{ path: '/usr/bin/nsenter', args: ['nsenter', '--mount=/proc/77/ns/mnt', '--', '/bin/b'] }],
        poststart: undefined,
        createContainer: [{ path: '/bin/c' }],
        poststop: [{ path: '/bin/d' }],
      },
    });
  });
});
