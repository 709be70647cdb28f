import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRUN_CONFIG_FILE, DeferredStartContainer } from '../../../src/backends/oci-cli/start-container-hooks.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-crun-start-hooks-');
after(() => tmp.remove());

function setup(name: string, config: Record<string, unknown>): { hooks: DeferredStartContainer; configFile: string; stateDir: string } {
  const dir = join(tmp.path, name);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'backend-config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const stateDir = join(dir, 'crun');
  const hooks = new DeferredStartContainer(stateDir, 'crun', () => assert.fail('crun is not asked for without hooks to run'), 'crun-cli');
  return { hooks, configFile, stateDir };
}

describe('crun startContainer hooks, run by berth before start', () => {
  test('a config without startContainer hooks goes to crun as it is, and nothing is saved', async () => {
    const { hooks, configFile } = setup('none', { ociVersion: '1.1.0', hooks: { poststart: [{ path: '/p' }] } });
    assert.equal(hooks.prepare('c1', '/srv/b', configFile), configFile);
    assert.equal(existsSync(join(configFile, '..', CRUN_CONFIG_FILE)), false);
    await hooks.runBeforeStart('c1');
  });

  test('startContainer hooks are taken out of the copy crun gets; every other field is kept; forget drops them', async () => {
    const config = {
      ociVersion: '1.1.0',
      x: { y: 1 },
      annotations: { a: 'b' },
      process: { args: ['/bin/true'], user: { uid: 7, gid: 8 }, noNewPrivileges: true, env: ['SECRET=1'] },
      hooks: { startContainer: [{ path: '/in/container', args: ['c', '1'] }], poststart: [{ path: '/p' }] },
    };
    const { hooks, configFile, stateDir } = setup('some', config);
    const given = hooks.prepare('c1', '/srv/b', configFile);
    assert.equal(given, join(configFile, '..', CRUN_CONFIG_FILE));
    const { hooks: left, ...rest } = JSON.parse(readFileSync(given, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(left, { poststart: [{ path: '/p' }] });
    const { hooks: _h, ...expected } = config;
    assert.deepEqual(rest, expected);
    const saved = JSON.parse(readFileSync(join(stateDir, '.startContainer', 'c1'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(saved, {
      hooks: [{ path: '/in/container', args: ['c', '1'] }],
      ociVersion: '1.1.0',
      bundle: '/srv/b',
      annotations: { a: 'b' },
      process: { user: { uid: 7, gid: 8 }, noNewPrivileges: true },
    }, "the hook keeps the process's credentials, not its env");
    hooks.forget('c1');
    assert.equal(existsSync(join(stateDir, '.startContainer', 'c1')), false);
  });
});
