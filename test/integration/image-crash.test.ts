// The image verbs killed at any moment, through the real CLI on the dir driver (and on a real
// zfs-fuse pool when it can run here): SIGKILL of berth (or of its process group) at several
// delays into `image import`, `image rm` and `create --image`, then the verbs a user runs next
// must all work: `image ls` (counting only containers that exist), a re-import, `create
// --image`, `delete --force` (which finds an orphaned volume) and `image rm`; nothing is left.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, type BerthResult } from '../helpers/berth.js';
import { openImageCache } from '../../src/images/index.js';
import { berthStateDir, stateRootIdentity } from '../../src/core/state-root.js';
import { CRASH_ENV } from '../../src/core/crash-point.js';
import type { StorageConfig } from '../../src/core/config.js';
import { busyboxLayerDir, buildOciLayout, type TarEntrySpec } from '../helpers/oci-image.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { tempDir } from '../helpers/bundle.js';
import { CLI_STORAGE_KINDS } from '../helpers/cli-storage.js';

/** Many small files: an import and a copy that take long enough to be killed half-way. */
function manyFiles(n: number): TarEntrySpec[] {
  const out: TarEntrySpec[] = [];
  for (let d = 0; d < Math.ceil(n / 200); d++) {
    out.push({ name: `data/d${d}/`, type: 'directory' });
    for (let f = 0; f < 200 && d * 200 + f < n; f++) out.push({ name: `data/d${d}/f${f}`, content: `file ${d}/${f}\n`.repeat(8) });
  }
  return out;
}

interface Rig {
  root: string;
  config: string;
  storage: StorageConfig;
  layout: string;
  /** Where the storage keeps templates and container volumes (dir driver), for leftover checks. */
  storageDir: string | undefined;
  cleanup: () => Promise<void>;
}

/** Starts berth with args, SIGKILLs it (or its whole process group) `delayMs` after the spawn. */
async function killedAfter(args: string[], delayMs: number, group: boolean): Promise<void> {
  const child = spawn(BERTH_BIN, args, { stdio: 'ignore', detached: true });
  const exited = new Promise((r) => child.once('exit', r));
  await Promise.race([new Promise((r) => setTimeout(r, delayMs)), exited]);
  try {
    if (group) process.kill(-child.pid!, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // exited already
  }
  await exited;
}

function ok(r: BerthResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr.trim()}`);
  assert.doesNotMatch(r.stderr, /does not exist/, `${what}: ${r.stderr}`);
  return r.stdout;
}

function suite(
  name: string,
  skip: string | undefined,
  make: (dir: string) => Promise<{ toml: string; storage: StorageConfig; storageDir: string | undefined; cleanup: () => Promise<void> }>,
): void {
  describe(`image verbs killed mid-way (${name})`, { skip }, () => {
    let rig: Rig;
    const run = (...args: string[]) => berth(['--root', rig.root, '--config', rig.config, ...args], { timeoutMs: 120_000 });
    const argv = (...args: string[]) => ['--root', rig.root, '--config', rig.config, ...args];

    before(async () => {
      const tmp = tempDir(`berth-imgcrash-${name}-`);
      const made = await make(tmp.path);
      mkdirSync(join(tmp.path, 'img'));
      const built = await buildOciLayout(join(tmp.path, 'img'), {
        images: [{ layers: [{ dir: busyboxLayerDir(join(tmp.path, 'rootfs')), compression: 'gzip' }, { entries: manyFiles(3000), compression: 'gzip' }] }],
      });
      const config = join(tmp.path, 'config.toml');
      const stateDir = join(tmp.path, 'state');
      writeFileSync(config, `default_runtime = "crun-cli"\n\n[storage]\n${made.toml}\nstate_dir = "${stateDir}"\n`);
      rig = {
        root: join(tmp.path, 'root'),
        config,
        storage: { ...made.storage, state_dir: stateDir },
        layout: built.layout,
        storageDir: made.storageDir,
        cleanup: async () => {
          await made.cleanup();
          tmp.remove();
        },
      };
    });
    after(async () => {
      if (!rig) return;
      await rig.cleanup();
    });

    /** The image's row of `image ls --format json`, or undefined. */
    async function listed(): Promise<{ refs: string[]; containers: string[] } | undefined> {
      const rows = JSON.parse(ok(await run('image', 'ls', '--format', 'json'), 'image ls')) as { refs: string[]; containers: string[] }[];
      assert.ok(rows.length <= 1, `one image at most: ${JSON.stringify(rows)}`);
      return rows[0];
    }

    /** What a listing leaves in the storage directory: only whole volumes, no staged names. */
    function assertNoLeftovers(what: string): void {
      if (!rig.storageDir) return;
      for (const kind of ['images', 'containers']) {
        let entries: string[] = [];
        try {
          entries = readdirSync(join(rig.storageDir, kind));
        } catch {
          continue;
        }
        assert.deepEqual(entries.filter((e) => e.startsWith('.')), [], `${what}: no staged or half-removed ${kind} left`);
      }
    }

    /** Everything a user does next works, and leaves the cache empty. */
    async function userGoesOn(what: string, id: string): Promise<void> {
      const before = await listed();
      if (before) assert.deepEqual(before.containers, [], `${what}: image ls counts no container that does not exist`);
      ok(await run('image', 'import', rig.layout, '--name', 'crash:test'), `${what}: re-import`);
      ok(await run('create', '--image', 'crash:test', id), `${what}: create --image`);
      assert.deepEqual((await listed())?.containers, [id], `${what}: the new container is counted`);
      ok(await run('delete', '--force', id), `${what}: delete --force`);
      assert.deepEqual((await listed())?.containers, [], `${what}: and is gone`);
      ok(await run('image', 'rm', 'crash:test'), `${what}: image rm`);
      assert.equal(await listed(), undefined, `${what}: the cache is empty`);
      assertNoLeftovers(what);
    }

    const DELAYS = [150, 250, 350, 500, 700, 1000];

    test('image import killed', async () => {
      for (const [i, delay] of DELAYS.entries()) {
        await killedAfter(argv('image', 'import', rig.layout, '--name', 'crash:test'), delay, i % 2 === 1);
        await userGoesOn(`import killed at ${delay} ms`, `ci${i}`);
      }
    });

    test('image rm killed', async () => {
      for (const [i, delay] of DELAYS.entries()) {
        ok(await run('image', 'import', rig.layout, '--name', 'crash:test'), 'import');
        await killedAfter(argv('image', 'rm', 'crash:test'), delay, i % 2 === 1);
        await userGoesOn(`rm killed at ${delay} ms`, `cr${i}`);
      }
    });

    // The named points (core/crash-point.ts): each step boundary of the transactions, hit every time.
    const POINTS: { point: string; args: () => string[]; first?: boolean }[] = [
      { point: 'image-import:unpacked', args: () => ['image', 'import', rig.layout, '--name', 'crash:test'] },
      { point: 'image-import:sealed', args: () => ['image', 'import', rig.layout, '--name', 'crash:test'] },
      { point: 'image-rm:marked', args: () => ['image', 'rm', 'crash:test'], first: true },
      { point: 'image-rm:destroyed', args: () => ['image', 'rm', 'crash:test'], first: true },
      { point: 'create:volume', args: () => ['create', '--image', 'crash:test', 'cpoint'], first: true },
    ];
    for (const { point, args, first } of POINTS) {
      test(`killed at ${point}: the next verb repairs it, and says so`, async () => {
        if (first) ok(await run('image', 'import', rig.layout, '--name', 'crash:test'), 'import');
        const killed = await berth(argv(...args()), { env: { ...process.env, [CRASH_ENV]: point } });
        assert.equal(killed.code, null, `berth ${args().join(' ')} died at ${point}: ${killed.stderr}`);
        if (point === 'create:volume') {
          const d = await run('delete', '--force', 'cpoint');
          ok(d, 'delete --force');
          assert.match(d.stderr, /removed its volume .*interrupted create left without a record/);
          assert.equal(await listed().then((r) => r?.containers.length), 0);
          ok(await run('image', 'rm', 'crash:test'), 'image rm');
        } else {
          const ls = await run('image', 'ls');
          ok(ls, 'image ls');
          assert.match(ls.stderr, /removed the partial template|re-adopted its sealed|finished the removal|dropped its index entry/, `image ls says what it repaired: ${ls.stderr}`);
        }
        await userGoesOn(point, `cp-${point.replace(/\W/g, '-')}`);
      });
    }

    test('a volume that a killed create left without a record: image ls does not count it, delete --force removes it', async () => {
      ok(await run('image', 'import', rig.layout, '--name', 'crash:test'), 'import');
      const cache = await openImageCache({ storage: rig.storage });
      const rootId = stateRootIdentity(berthStateDir(rig.root)).id;
      // What a create killed between its volume and its record leaves (the window is a few ms):
      // the volume, and the id's directory its lock was taken on.
      await cache.createContainerVolume('crash:test', 'orphan-a', { rootId });
      mkdirSync(join(berthStateDir(rig.root), 'containers', 'orphan-a'), { recursive: true });
      await cache.createContainerVolume('crash:test', 'orphan-b', { rootId });
      const d = await run('delete', '--force', 'orphan-a');
      ok(d, 'delete --force of an id without a record');
      assert.deepEqual((await cache.containerVolumes()).map((v) => v.id), ['orphan-b'], 'delete --force found the volume');
      assert.deepEqual((await listed())?.containers, [], 'image ls counts no container that does not exist');
      assert.deepEqual(await cache.containerVolumes(), [], 'and the next image verb removed the orphan');
      // A volume of another state root is not this root's to judge.
      const other = await cache.createContainerVolume('crash:test', 'orphan-c', { rootId: 'abcdef0123' });
      assert.deepEqual((await listed())?.containers, ['orphan-c']);
      await cache.destroyContainerVolume('orphan-c', { rootId: 'abcdef0123', volume: other.volume });
      ok(await run('image', 'rm', 'crash:test'), 'image rm');
    });

    test('delete --force of an image container killed: a second delete --force removes it all', async () => {
      ok(await run('image', 'import', rig.layout, '--name', 'crash:test'), 'import');
      for (const [i, delay] of [60, 100, 150, 200, 250, 300].entries()) {
        const id = `dk${i}`;
        ok(await run('create', '--image', 'crash:test', id), 'create --image');
        await killedAfter(argv('delete', '--force', id), delay, i % 2 === 1);
        ok(await run('delete', '--force', id), `delete --force after one killed at ${delay} ms`);
        const live = JSON.parse(ok(await run('list', '--format', 'json'), 'list')) as { id: string }[];
        assert.deepEqual(live, [], `killed at ${delay} ms: no container left`);
        assert.deepEqual((await listed())?.containers, [], `killed at ${delay} ms: no volume left`);
        assertNoLeftovers(`delete killed at ${delay} ms`);
      }
      ok(await run('image', 'rm', 'crash:test'), 'image rm');
    });

    test('create --image killed: delete --force finds the volume, image ls does not count it', async () => {
      for (const [i, delay] of DELAYS.entries()) {
        ok(await run('image', 'import', rig.layout, '--name', 'crash:test'), 'import');
        const id = `cc${i}`;
        await killedAfter(argv('create', '--image', 'crash:test', id), delay, i % 2 === 1);
        const what = `create killed at ${delay} ms`;
        const row = await listed();
        const live = JSON.parse(ok(await run('list', '--format', 'json'), 'list')) as { id: string }[];
        // Counted only while its record names it (the create got that far); never an orphan.
        for (const c of row?.containers ?? []) assert.ok(live.some((l) => l.id === c), `${what}: image ls counts "${c}", which list does not show`);
        ok(await run('delete', '--force', id), `${what}: delete --force`);
        assert.deepEqual((await listed())?.containers, [], `${what}: no volume left after delete --force`);
        ok(await run('image', 'rm', 'crash:test'), `${what}: image rm`);
        await userGoesOn(what, `cd${i}`);
      }
    });
  });
}

for (const kind of CLI_STORAGE_KINDS) suite(kind.name, kind.skip, kind.make);
