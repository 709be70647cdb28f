// One damaged record must not break the rest, nor hide a live container: a torn record.json,
// a record of `null`, and `"pid": "abc"` on a running container, on every backend. `list` goes on
// and names the bad file; `state` and `kill` say what is wrong and how out; `delete --force`
// removes the container through what its backend keeps of it: its process, its backend state,
// its record (and, for a container from an image, its volume).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS, alive } from '../helpers/host.js';
import { buildBusyboxOciArchive } from '../helpers/oci-image.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const DAMAGES: Record<string, (text: string) => string> = {
  torn: (text) => text.slice(0, Math.floor(text.length / 2)),
  null: () => 'null',
  'pid-abc': (text) => JSON.stringify({ ...(JSON.parse(text) as object), pid: 'abc' }),
};

for (const { name: backend, skip, ids } of ALL_BACKENDS) {
  describe(`corrupt records on ${backend}`, { skip }, () => {
    const tmp = tempDir(`berth-corrupt-${backend}-`);
    const root = join(tmp.path, 'root');
    const config = join(tmp.path, 'config.toml');
    const run = (args: string[]) => berth(['--root', root, '--config', config, ...args]);
    const ok = (args: string[]) => berthOk(root, ['--config', config, ...args]);
    let bundle: string;

    before(async () => {
      writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${join(tmp.path, 'storage')}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
      bundle = makeBusyboxBundle(join(tmp.path, 'bundle'), { args: ['sleep', '300'] });
      await ok(['--runtime', backend, 'run', '-d', '--bundle', bundle, 'cr-keep']);
    });
    after(async () => {
      for (const id of ['cr-keep', ...Object.keys(DAMAGES).map((d) => `cr-${d}`), 'cr-image']) await run(['delete', '--force', id]);
      tmp.remove();
    });

    for (const [damage, spoil] of Object.entries(DAMAGES)) {
      test(`a ${damage} record: list goes on, state and kill explain, delete --force removes the live container`, async () => {
        const id = `cr-${damage}`;
        await ok(['--runtime', backend, 'run', '-d', '--bundle', bundle, id]);
        const pid = (JSON.parse(await ok(['state', id])) as { pid: number }).pid;
        const path = join(berthStateDir(root), 'containers', id, 'record.json');
        writeFileSync(path, spoil(readFileSync(path, 'utf8')));

        const list = await run(['list', '--format', 'json']);
        assert.equal(list.code, 0, list.stderr);
        assert.deepEqual((JSON.parse(list.stdout) as { id: string }[]).map((e) => e.id), ['cr-keep'], 'the good container is listed');
        assert.match(list.stderr, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt`), 'list names the bad record');

        for (const verb of [['state', id], ['kill', id, 'TERM']]) {
          const r = await run(verb);
          assert.equal(r.code, 1, `${verb[0]}: ${r.stderr}`);
          assert.match(r.stderr, /is corrupt: .*delete --force/, `${verb[0]} says what is wrong and the way out`);
        }
        assert.ok(alive(pid), 'refusing touched nothing');

        const d = await run(['delete', '--force', id]);
        assert.equal(d.code, 0, d.stderr);
        await waitFor(`the init ${pid} of ${id} to be gone`, () => (alive(pid) ? undefined : true));
        assert.ok(!ids(root).includes(id), `${backend} keeps nothing of ${id}`);
        assert.equal(existsSync(join(berthStateDir(root), 'containers', id)), false, 'its record is gone');
        assert.equal((JSON.parse(await ok(['state', 'cr-keep'])) as { status: string }).status, 'running', 'the other container is untouched');
      });
    }

    test('a torn record of a container from an image: delete --force removes its volume too', async () => {
      const image = buildBusyboxOciArchive(join(tmp.path, 'image'), { cmd: ['sleep', '300'] });
      await ok(['image', 'import', image.file, '--name', 'busybox:corrupt']);
      await ok(['--runtime', backend, 'run', '-d', '--image', 'busybox:corrupt', 'cr-image']);
      const path = join(berthStateDir(root), 'containers', 'cr-image', 'record.json');
      const volume = (JSON.parse(readFileSync(path, 'utf8')) as { image: { volume: string } }).image.volume;
      const volumeDir = join(tmp.path, 'storage', 'containers', volume);
      assert.ok(existsSync(volumeDir));
      writeFileSync(path, '{"version": 2, "id": "cr-ima');
      const d = await run(['delete', '--force', 'cr-image']);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(existsSync(volumeDir), false, 'the volume this root made for it is gone');
      const ls = JSON.parse(await ok(['image', 'ls', '--format', 'json'])) as { containers: string[] }[];
      assert.deepEqual(ls[0]?.containers, [], 'the image counts no container');
    });
  });
}
