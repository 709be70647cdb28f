// Many berth processes on one image at once, through the real CLI, on the dir driver and on a
// real zfs-fuse pool: 10 simultaneous imports make one unpack and ten successes; 20 simultaneous
// `create --image` (of a cached ref, and of a layout path not yet cached) make twenty clones of
// one template; 20 simultaneous deletes leave nothing.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StorageConfig } from '../../src/core/config.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { openStorage } from '../../src/storage/registry.js';
import { berth, type BerthResult } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { buildOciLayout, busyboxLayerDir } from '../helpers/oci-image.js';
import { CLI_STORAGE_KINDS } from '../helpers/cli-storage.js';

function suite(name: string, skip: string | undefined, make: (dir: string) => Promise<{ toml: string; storage: StorageConfig; cleanup: () => Promise<void> }>): void {
  describe(`one image, many berths at once (${name})`, { skip }, () => {
    let root: string;
    let config: string;
    let layout: string;
    let storage: StorageDriver;
    let cleanup: () => Promise<void>;
    const run = (...args: string[]): Promise<BerthResult> => berth(['--root', root, '--config', config, ...args], { timeoutMs: 180_000 });
    const all = (n: number, args: (i: number) => string[]): Promise<BerthResult[]> => Promise.all(Array.from({ length: n }, (_, i) => run(...args(i))));
    const failures = (rs: BerthResult[]): string[] => rs.filter((r) => r.code !== 0).map((r) => `exit ${r.code}: ${r.stderr.trim()}`);

    before(async () => {
      const tmp = tempDir(`berth-imgconc-${name}-`);
      const made = await make(tmp.path);
      mkdirSync(join(tmp.path, 'img'));
      layout = (await buildOciLayout(join(tmp.path, 'img'), { images: [{ layers: [{ dir: busyboxLayerDir(join(tmp.path, 'rootfs')) }] }] })).layout;
      root = join(tmp.path, 'root');
      config = join(tmp.path, 'config.toml');
      writeFileSync(config, `default_runtime = "crun-cli"\n\n[storage]\n${made.toml}\nstate_dir = "${join(tmp.path, 'state')}"\n`);
      storage = await openStorage(made.storage);
      cleanup = async () => {
        await made.cleanup();
        tmp.remove();
      };
    });
    after(async () => {
      await cleanup?.();
    });

    async function assertEmpty(): Promise<void> {
      assert.deepEqual(await storage.list('container'), [], 'no container volume left');
      assert.deepEqual(await storage.list('image'), [], 'no template left');
    }

    test('10 simultaneous imports of one image: one unpack, ten successes', async () => {
      const rs = await all(10, () => ['image', 'import', layout, '--name', 'conc:test']);
      assert.deepEqual(failures(rs), []);
      const said = rs.map((r) => r.stdout.split(' ')[0]).sort();
      assert.deepEqual(said, ['already', 'already', 'already', 'already', 'already', 'already', 'already', 'already', 'already', 'imported'], 'exactly one unpacked');
      const templates = await storage.list('image');
      assert.equal(templates.length, 1);
      assert.equal(templates[0]!.properties.ref, 'conc:test', 'the name given by all ten, once');
    });

    test('20 simultaneous create --image of one cached image: twenty clones, one template', async () => {
      const rs = await all(20, (i) => ['create', '--image', 'conc:test', `k${i}`]);
      assert.deepEqual(failures(rs), []);
      const [templates, volumes] = [await storage.list('image'), await storage.list('container')];
      assert.equal(templates.length, 1, 'one template');
      assert.equal(volumes.length, 20, 'twenty volumes');
      assert.ok(volumes.every((v) => v.origin === templates[0]!.name), 'each made from the template');
      const rows = JSON.parse((await run('image', 'ls', '--format', 'json')).stdout) as { containers: string[] }[];
      assert.equal(rows[0]!.containers.length, 20);
      assert.deepEqual(failures(await all(20, (i) => ['delete', '--force', `k${i}`])), []);
      assert.deepEqual(await storage.list('container'), []);
      assert.equal((await run('image', 'rm', 'conc:test')).code, 0);
      await assertEmpty();
    });

    test('20 simultaneous create --image of a layout not yet cached: one import, twenty clones', async () => {
      const rs = await all(20, (i) => ['create', '--image', layout, `p${i}`]);
      assert.deepEqual(failures(rs), []);
      const [templates, volumes] = [await storage.list('image'), await storage.list('container')];
      assert.equal(templates.length, 1, 'one template');
      assert.equal(volumes.length, 20, 'twenty volumes');
      assert.ok(volumes.every((v) => v.origin === templates[0]!.name));
      assert.deepEqual(failures(await all(20, (i) => ['delete', '--force', `p${i}`])), []);
      const rm = await run('image', 'rm', templates[0]!.name);
      assert.equal(rm.code, 0, rm.stderr);
      await assertEmpty();
    });
  });
}

for (const kind of CLI_STORAGE_KINDS) suite(kind.name, kind.skip, kind.make);
