import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SHADOW_BUNDLE_DIR, runcBundle } from '../../../src/backends/oci-cli/runc-bundle.js';
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

describe('runc\'s bundle', () => {
  test('the user\'s bundle when its config.json is the backend config (formatting aside)', () => {
    const c = { ociVersion: '1.0.2', root: { path: '/abs' }, linux: { cgroupsPath: '/p' } };
    const r = setUp(c, c);
    assert.equal(runcBundle(r), r.bundle);
    assert.equal(existsSync(join(r.state, SHADOW_BUNDLE_DIR)), false, 'no shadow made');
  });

  test('a shadow bundle otherwise: the backend config, and links to every other entry', () => {
    const r = setUp({ ociVersion: '1.0.2', root: { path: 'rootfs' } }, { ociVersion: '1.0.2', root: { path: '/abs/rootfs' }, linux: { cgroupsPath: '/p' } });
    const shadow = runcBundle(r);
    assert.equal(shadow, join(r.state, SHADOW_BUNDLE_DIR));
    assert.deepEqual(JSON.parse(readFileSync(join(shadow, 'config.json'), 'utf8')), JSON.parse(readFileSync(r.config, 'utf8')));
    assert.deepEqual(readdirSync(shadow).sort(), ['config.json', 'hook-data', 'rootfs']);
    assert.equal(readlinkSync(join(shadow, 'hook-data')), join(r.bundle, 'hook-data'));
    assert.equal(readFileSync(join(shadow, 'hook-data'), 'utf8'), 'x');
    // A second create after an interrupted one replaces what it left.
    copyFileSync(r.config, join(shadow, 'stale'));
    assert.equal(runcBundle(r), shadow);
    assert.equal(existsSync(join(shadow, 'stale')), false);
  });
});
