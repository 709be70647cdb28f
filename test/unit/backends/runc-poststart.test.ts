import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withoutHooks } from '../../../src/backends/deferred-hooks.js';
import { DeferredPoststart } from '../../../src/backends/oci-cli/runc-poststart.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-runc-poststart-');
after(() => tmp.remove());

describe('runc poststart, deferred to start', () => {
  test('withoutHooks takes out only the poststart hooks, keeping every other field', () => {
    const config = { ociVersion: '1.0.2', x: 1, hooks: { prestart: [{ path: '/a' }], poststart: [{ path: '/b', args: ['b', '1'] }] } };
    const split = withoutHooks(config, 'poststart');
    assert.deepEqual(split.hooks, [{ path: '/b', args: ['b', '1'] }]);
    assert.deepEqual(split.config, { ociVersion: '1.0.2', x: 1, hooks: { prestart: [{ path: '/a' }] } });
    assert.equal(withoutHooks({ ociVersion: '1.0.2' }, 'poststart').hooks.length, 0);
    assert.deepEqual(config.hooks.poststart, [{ path: '/b', args: ['b', '1'] }], 'the input is not changed');
  });

  test('saved hooks run once at start with the state on stdin; a failing one is no error; forget removes them', async () => {
    const deferred = new DeferredPoststart(join(tmp.path, 'runc'));
    const out = join(tmp.path, 'state.json');
    deferred.save('c1', {
      hooks: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}`] }, { path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }],
      ociVersion: '1.0.2',
      bundle: '/srv/bundle',
      annotations: { a: 'b' },
    });
    await deferred.run('c1', async () => 4242);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { ociVersion: '1.0.2', id: 'c1', status: 'running', pid: 4242, bundle: '/srv/bundle', annotations: { a: 'b' } });
    deferred.forget('c1');
    assert.equal(existsSync(join(tmp.path, 'runc', '.poststart', 'c1')), false);
    await deferred.run('c1', async () => assert.fail('no hooks: the pid is not even asked for'));
  });
});
