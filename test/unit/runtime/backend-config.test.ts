import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deriveBackendConfig, writeBackendConfig } from '../../../src/runtime/backend-config.js';
import { loadBundle } from '../../../src/runtime/bundle.js';
import { busyboxConfig, tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-backend-config-');
after(() => tmp.remove());
let n = 0;
function bundle(edit: (c: Record<string, any>) => void) {
  const dir = join(tmp.path, `b${n++}`);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(busyboxConfig({ edit })));
  return loadBundle(dir);
}
const none = { ociVersionMax: undefined, cgroupsPath: undefined };

describe('the backend config', () => {
  test('is the user\'s JSON with root.path absolute, unknown fields and their order kept', () => {
    const b = bundle((c) => {
      c.vendor = { z: 1, a: [null] };
      c.hooks = { poststop: [{ path: '/bin/true' }], prestart: [{ path: '/bin/true' }] };
    });
    const { config } = deriveBackendConfig(b, none);
    assert.equal((config.root as { path: string }).path, join(b.path, 'rootfs'));
    assert.deepEqual(config.vendor, { z: 1, a: [null] });
    assert.deepEqual(Object.keys(config.hooks as object), ['poststop', 'prestart']);
    assert.deepEqual({ ...config, root: b.raw.root }, b.raw, 'nothing else changed');
    assert.equal((b.raw.root as { path: string }).path, 'rootfs', 'the bundle\'s own object is untouched');
  });

  test('relative bind-mount sources become absolute; other sources stay', () => {
    const b = bundle((c) => c.mounts.push({ destination: '/d', type: 'bind', source: 'data' }, { destination: '/e', source: '../e', options: ['rbind', 'ro'] }, { destination: '/f', type: 'none', source: '/abs', options: ['bind'] }));
    const mounts = deriveBackendConfig(b, none).config.mounts as Array<{ destination: string; source: string }>;
    const by = (d: string) => mounts.find((m) => m.destination === d)!.source;
    assert.equal(by('/d'), join(b.path, 'data'));
    assert.equal(by('/e'), join(b.path, '../e'));
    assert.equal(by('/f'), '/abs');
    assert.equal(by('/tmp'), 'tmpfs', 'a tmpfs source is a name, not a path');
  });

  test('ociVersion is lowered only above the backend\'s maximum', () => {
    for (const [v, out] of [['1.3.0', '1.1.0'], ['1.2.1', '1.1.0'], ['1.1.0', '1.1.0'], ['1.1.0-rc.1', '1.1.0-rc.1'], ['1.0.2', '1.0.2']]) {
      const b = bundle((c) => (c.ociVersion = v));
      assert.equal(deriveBackendConfig(b, { ...none, ociVersionMax: '1.1.0' }).config.ociVersion, out, v);
      assert.equal(deriveBackendConfig(b, none).config.ociVersion, v, `${v} untouched without a maximum`);
    }
  });

  test('linux.cgroupsPath: berth\'s when the bundle has none, the bundle\'s own kept', () => {
    const plain = deriveBackendConfig(bundle(() => undefined), { ...none, cgroupsPath: '/berth-x/c1' });
    assert.equal(plain.cgroupsPath, '/berth-x/c1');
    assert.equal((plain.config.linux as { cgroupsPath: string }).cgroupsPath, '/berth-x/c1');
    const own = deriveBackendConfig(bundle((c) => (c.linux.cgroupsPath = 'mine')), { ...none, cgroupsPath: '/berth-x/c1' });
    assert.equal(own.cgroupsPath, 'mine');
    assert.equal((own.config.linux as { cgroupsPath: string }).cgroupsPath, 'mine');
    const noLinux = deriveBackendConfig(bundle((c) => delete c.linux), { ...none, cgroupsPath: '/p' });
    assert.deepEqual(noLinux.config.linux, { cgroupsPath: '/p' });
    assert.equal(deriveBackendConfig(bundle(() => undefined), none).cgroupsPath, undefined);
  });

  test('is written whole into the container directory', () => {
    const dir = join(tmp.path, 'state');
    mkdirSync(dir);
    const path = writeBackendConfig(dir, { a: 1 });
    assert.equal(path, join(dir, 'backend-config.json'));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { a: 1 });
  });
});
