import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_ID_PATTERN, STATE_DIR_NAME, berthStateDir, isFlatLayout, moveFlatLayout, stateRootIdentity } from '../../../src/core/state-root.js';
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

describe('berthStateDir and the flat layout of berth 0.8', () => {
  test('a new root keeps everything in <root>/@berth, a name no runc, crun or containerd id may have', () => {
    const root = fresh();
    assert.equal(berthStateDir(root), join(root, STATE_DIR_NAME));
    assert.doesNotMatch(STATE_DIR_NAME, /^[\w+\-.]+$/, 'runc ids match [\\w+-.]+');
    mkdirSync(root);
    stateRootIdentity(berthStateDir(root));
    assert.deepEqual(readdirSync(root), [STATE_DIR_NAME]);
    assert.equal(isFlatLayout(root), false);
  });

  test('a 0.8 root (its identity or records at the top) is used as it is', () => {
    const withIdentity = fresh();
    stateRootIdentity(withIdentity);
    assert.equal(berthStateDir(withIdentity), withIdentity);
    const recordsOnly = fresh();
    mkdirSync(join(recordsOnly, 'containers', 'c1'), { recursive: true });
    assert.equal(berthStateDir(recordsOnly), recordsOnly);
  });

  test('a runc container named "containers" in a shared root is not mistaken for a 0.8 root', () => {
    const root = fresh();
    mkdirSync(join(root, 'containers'), { recursive: true });
    writeFileSync(join(root, 'containers', 'state.json'), '{}');
    assert.equal(berthStateDir(root), join(root, STATE_DIR_NAME));
  });

  test('moveFlatLayout moves every entry, keeps the identity, and leaves the top level with @berth alone', () => {
    const root = fresh();
    const id = stateRootIdentity(root).id;
    for (const d of ['containers', 'crun', 'runc', 'lxc', 'journal']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'journal', 'ops-0000000001.jsonl'), '{}\n');
    writeFileSync(join(root, 'unrelated'), 'a file berth did not make\n');
    assert.deepEqual(moveFlatLayout(root), ['journal', 'containers', 'crun', 'runc', 'lxc', 'identity.json']);
    assert.deepEqual(readdirSync(root).sort(), [STATE_DIR_NAME, 'unrelated']);
    assert.equal(berthStateDir(root), join(root, STATE_DIR_NAME));
    assert.equal(stateRootIdentity(berthStateDir(root)).id, id);
    assert.deepEqual(readdirSync(join(root, STATE_DIR_NAME, 'journal')), ['ops-0000000001.jsonl']);
  });

  test('a move cut short after the identity moved is finished by the next lookup; before it, the root stays flat', () => {
    const root = fresh();
    const id = stateRootIdentity(root).id;
    mkdirSync(join(root, 'containers'));
    // Cut short before the identity moved: still flat, nothing lost.
    const staging = join(root, `.${STATE_DIR_NAME}.moving`);
    mkdirSync(staging);
    renameSync(join(root, 'containers'), join(staging, 'containers'));
    assert.equal(berthStateDir(root), root);
    // Cut short after it moved, before the last rename.
    renameSync(join(root, 'identity.json'), join(staging, 'identity.json'));
    assert.equal(berthStateDir(root), join(root, STATE_DIR_NAME));
    assert.deepEqual(readdirSync(root), [STATE_DIR_NAME]);
    assert.equal(stateRootIdentity(berthStateDir(root)).id, id);
  });
});
