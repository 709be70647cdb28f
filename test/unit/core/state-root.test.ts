import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_ID_PATTERN, stateRootIdentity } from '../../../src/core/state-root.js';
import { InternalError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-state-root-test-');
after(() => tmp.remove());

let n = 0;
const fresh = (): string => join(tmp.path, `r${n++}`);

describe('stateRootIdentity', () => {
  test('makes a random id once, keeps it, and leaves only identity.json', () => {
    const root = fresh();
    const first = stateRootIdentity(root);
    assert.match(first.id, ROOT_ID_PATTERN);
    assert.deepEqual(stateRootIdentity(root), first);
    assert.deepEqual(readdirSync(root), ['identity.json']);
  });

  test('two roots get different ids', () => {
    assert.notEqual(stateRootIdentity(fresh()).id, stateRootIdentity(fresh()).id);
  });

  test('processes racing to make it agree on one id', async () => {
    const root = fresh();
    const module = new URL('../../../src/core/state-root.js', import.meta.url).pathname;
    const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(m.stateRootIdentity(${JSON.stringify(root)}).id))`;
    const ids = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
        }),
      ),
    );
    assert.equal(new Set(ids).size, 1, `ids: ${ids.join(' ')}`);
    assert.deepEqual(readdirSync(root), ['identity.json']);
  });

  test('a corrupt or invalid identity is an error that says not to delete it', () => {
    for (const text of ['{', '{"id":"XYZ"}']) {
      const root = fresh();
      mkdirSync(root);
      writeFileSync(join(root, 'identity.json'), text);
      assert.throws(() => stateRootIdentity(root), (err: unknown) => err instanceof InternalError && /restore it rather than delete it/.test(err.message));
    }
  });
});
