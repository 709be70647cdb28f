// Two state roots on one host with the same container ids, from the same image, on the dir
// driver and on a real zfs-fuse pool: every verb in one root leaves the other's rootfs, volume
// and record untouched, and its process (its cgroup is per root too). Also: a volume removed
// or unmounted by hand, a record written by 0.8.0, and a delete under another config.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StorageConfig } from '../../src/core/config.js';
import { sleep } from '../../src/core/clock.js';
import { runTool } from '../../src/core/exec.js';
import { openImageCache } from '../../src/images/index.js';
import { openStorage } from '../../src/storage/registry.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { berth, berthOk } from '../helpers/berth.js';
import { busyboxConfig, tempDir } from '../helpers/bundle.js';
import { alive, missing } from '../helpers/host.js';
import { buildBusyboxOciArchive } from '../helpers/oci-image.js';
import { closeZfsRig, openZfsRig, zfsSkipReason, type TestPool, type ZfsDaemon } from '../helpers/zfs.js';
import { berthStateDir } from '../../src/core/state-root.js';

const BACKEND = 'crun-cli';
const IMAGE = 'busybox:iso';

interface Storage {
  config: StorageConfig;
  toml: string;
  /** Removes a volume's files by hand, as an operator might (dir: rm -rf; zfs: zfs destroy). */
  removeByHand(volume: string): Promise<void>;
  /** zfs: zfs unmount; undefined where storage has no mounts. */
  unmountByHand?(volume: string): Promise<void>;
  /** Whether the volume's files are there (zfs: mounted=yes). */
  mounted(volume: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

interface Root {
  root: string;
  run(args: string[]): ReturnType<typeof berth>;
  ok(args: string[]): Promise<string>;
  record(id: string): string;
}

interface Rootfs {
  rootfs: string;
  pid: number;
}

function writeConfig(path: string, storage: string, stateDir: string): string {
  writeFileSync(path, `default_runtime = "${BACKEND}"\n\n[storage]\n${storage}\nstate_dir = "${stateDir}"\n`);
  return path;
}

function openRoot(root: string, config: string): Root {
  return {
    root,
    run: (args) => berth(['--root', root, '--config', config, ...args]),
    ok: (args) => berthOk(root, ['--config', config, ...args]),
    record: (id) => readFileSync(join(berthStateDir(root), 'containers', id, 'record.json'), 'utf8'),
  };
}

async function state(r: Root, id: string): Promise<{ status: string; pid: number; rootfs: string }> {
  return JSON.parse(await r.ok(['state', id])) as { status: string; pid: number; rootfs: string };
}

async function waitStopped(r: Root, id: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if ((await state(r, id)).status === 'stopped') return;
    await sleep(20);
  }
  assert.fail(`container ${id} in ${r.root} did not stop`);
}

function suite(name: string, skip: string | undefined, make: (dir: string) => Promise<Storage>): void {
  describe(`two state roots, the same ids, on ${name}`, { skip }, () => {
    let tmp: { path: string; remove: () => void };
    let storage: Storage;
    let driver: StorageDriver;
    let a: Root;
    let b: Root;
    let config: string;
    const ids = ['iso-c1', 'iso-r1', 'iso-p1', 'iso-gone', 'iso-unmounted', 'iso-old', 'iso-cfg', 'iso-keep'];

    before(async () => {
      tmp = tempDir(`berth-iso-${name.replace(/\W+/g, '-')}-`);
      storage = await make(tmp.path);
      driver = await openStorage(storage.config);
      config = writeConfig(join(tmp.path, 'config.toml'), storage.toml, join(tmp.path, 'state'));
      a = openRoot(join(tmp.path, 'rootA'), config);
      b = openRoot(join(tmp.path, 'rootB'), config);
      const image = buildBusyboxOciArchive(join(tmp.path, 'image'), { cmd: ['sleep', '300'] });
      await a.ok(['image', 'import', image.file, '--name', IMAGE]);
      const other = buildBusyboxOciArchive(join(tmp.path, 'image2'), { cmd: ['sh', '-c', 'echo other'] });
      await a.ok(['image', 'import', other.file, '--name', 'other:iso']);
    });
    after(async () => {
      for (const r of [a, b]) if (r) for (const id of ids) await r.run(['delete', '--force', id]);
      await storage?.cleanup();
      tmp?.remove();
    });

    /** A's container as it was: the same pid alive, its rootfs with the marker, mounted, its record unchanged. */
    async function assertUntouched(what: string, id: string, before: Rootfs, record: string, checkProcess: boolean): Promise<void> {
      assert.equal(a.record(id), record, `${what}: A's record unchanged`);
      assert.equal(readFileSync(join(before.rootfs, 'marker'), 'utf8'), 'A', `${what}: A's rootfs still has its files`);
      const volume = (JSON.parse(record) as { image: { volume: string } }).image.volume;
      assert.ok(await storage.mounted(volume), `${what}: A's volume ${volume} still mounted`);
      if (checkProcess) {
        assert.ok(alive(before.pid), `${what}: A's process ${before.pid} still alive`);
        const s = await state(a, id);
        assert.equal(s.status, 'running', `${what}: A's container still running (not killed)`);
        // A frozen cgroup shows no status of its own: a process that must run in it tells.
        const e = await berth(['--root', a.root, '--config', config, 'exec', id, 'true'], { timeoutMs: 5000 });
        assert.equal(e.code, 0, `${what}: A's container still runs processes (not frozen): ${e.stderr}`);
      }
    }

    async function startInA(id: string, runtime = BACKEND): Promise<{ before: Rootfs; record: string }> {
      await a.ok(['--runtime', runtime, 'run', '-d', '--image', IMAGE, id]);
      const s = await state(a, id);
      writeFileSync(join(s.rootfs, 'marker'), 'A');
      return { before: { rootfs: s.rootfs, pid: s.pid }, record: a.record(id) };
    }

    /** Every verb on B's container of the same id; `check` runs after each. */
    async function everyVerbInB(id: string, check: (what: string) => Promise<void>, runtime = BACKEND): Promise<void> {
      const rt = ['--runtime', runtime];
      await b.ok([...rt, 'create', '--image', IMAGE, id]);
      await check('create in B');
      const sb = await state(b, id);
      assert.notEqual(sb.rootfs, (await state(a, id)).rootfs, 'B has a rootfs of its own');
      assert.ok(!existsSync(join(sb.rootfs, 'marker')), "B's rootfs is a fresh clone, not A's");
      await b.ok(['start', id]);
      await check('start in B');
      await b.ok(['state', id]);
      await check('state in B');
      await b.ok(['pause', id]);
      await check('pause in B');
      await b.ok(['resume', id]);
      await check('resume in B');
      await b.ok(['kill', id, 'KILL']);
      await waitStopped(b, id);
      await check('kill in B');
      await b.ok(['delete', id]);
      await check('delete in B');
      await b.ok([...rt, 'run', '-d', '--image', IMAGE, id]);
      await check('a new container of the same id in B');
      await b.ok(['stop', '--timeout', '1', id]);
      await check('stop in B');
      await b.ok(['delete', id]);
      await b.ok([...rt, 'run', '-d', '--image', IMAGE, id]);
      await b.ok(['delete', '--force', id]);
      await check('delete --force in B');
      await b.ok([...rt, 'create', '--image', IMAGE, id]);
      await check('create again in B');
      await b.ok(['delete', '--force', id]);
      await check('delete --force of a created container in B');
    }

    test("every verb in root B leaves A's rootfs, volume and record of the same id untouched; images count both roots' containers", async () => {
      const { before: was, record } = await startInA('iso-c1');
      const volume = (JSON.parse(record) as { image: { volume: string } }).image.volume;
      const rootId = (JSON.parse(readFileSync(join(berthStateDir(a.root), 'identity.json'), 'utf8')) as { id: string }).id;
      assert.equal(volume, `${rootId}-iso-c1`, 'the volume is named by the root id and the container id');
      const info = await driver.info('container', volume);
      assert.equal(info.properties['container-id'], 'iso-c1');
      assert.equal(info.properties['root-id'], rootId);
      const rec = JSON.parse(record) as { version: number; image: { storage: { driver: string; location: string }; digest: string; rootId: string } };
      assert.equal(rec.version, 2);
      assert.deepEqual(rec.image.storage, { driver: driver.name, location: driver.location });
      assert.equal(rec.image.rootId, rootId);
      assert.match(rec.image.digest, /^sha256:[0-9a-f]{64}$/);

      await everyVerbInB('iso-c1', (what) => assertUntouched(what, 'iso-c1', was, record, false));

      // Images are shared host-wide: a container of either root keeps the image in use.
      await b.ok(['run', '-d', '--image', IMAGE, 'iso-c1']);
      const listed = JSON.parse(await a.ok(['image', 'ls', '--format', 'json'])) as { refs: string[]; containers: string[]; containerVolumes: { rootId: string }[] }[];
      const mine = listed.find((i) => i.refs.includes(IMAGE))!;
      assert.deepEqual(mine.containers.filter((c) => c === 'iso-c1'), ['iso-c1', 'iso-c1'], 'both roots\' iso-c1 count');
      assert.equal(new Set(mine.containerVolumes.map((v) => v.rootId)).size >= 2, true, 'volumes of two roots');
      await b.ok(['delete', '--force', 'iso-c1']);
      const refused = await b.run(['image', 'rm', IMAGE]);
      assert.equal(refused.code, 5, `root B may not remove an image root A uses: ${refused.stderr}`);
      assert.match(refused.stderr, new RegExp(`used by container volumes: iso-c1 \\(root ${rootId}\\)`));
      await assertUntouched('image rm in B', 'iso-c1', was, record, false);
      await a.ok(['delete', '--force', 'iso-c1']);
      assert.equal(await driver.exists('container', volume), false, "A's own delete removes A's volume");
    });

    test("with runc: every verb in root B leaves A's rootfs, volume and record of the same id untouched", { skip: missing('runc') }, async () => {
      const { before: was, record } = await startInA('iso-r1', 'runc');
      await everyVerbInB('iso-r1', (what) => assertUntouched(what, 'iso-r1', was, record, false), 'runc');
      const volume = (JSON.parse(record) as { image: { volume: string } }).image.volume;
      await a.ok(['delete', '--force', 'iso-r1']);
      assert.equal(await driver.exists('container', volume), false);
    });

    // The cgroup berth picks is per root (runtime/cgroup-path.ts): with a host-wide /<id>, B's
    // pause froze and B's stop/delete --force killed A's process.
    test("every verb in root B leaves A's process of the same id running", async () => {
      const { before: was, record } = await startInA('iso-p1');
      await everyVerbInB('iso-p1', (what) => assertUntouched(what, 'iso-p1', was, record, true));
      await a.ok(['delete', '--force', 'iso-p1']);
    });

    async function assertReportedAndWorking(id: string, volume: string, what: RegExp, gone: boolean): Promise<void> {
      const list = await a.run(['list', '--format', 'json']);
      assert.equal(list.code, 0, list.stderr);
      const entry = (JSON.parse(list.stdout) as { id: string; volumeProblem?: string }[]).find((e) => e.id === id);
      assert.match(entry?.volumeProblem ?? '', what, 'list --format json says what is wrong');
      assert.match(list.stderr, new RegExp(`level=warn .*${id}.*${volume}`), 'list warns on stderr');
      const ls = await a.run(['image', 'ls', '--format', 'json']);
      assert.equal(ls.code, 0, ls.stderr);
      assert.ok((JSON.parse(ls.stdout) as { refs: string[] }[]).some((i) => i.refs.includes(IMAGE)), 'image ls lists the images');
      assert.match(ls.stderr, new RegExp(volume), 'image ls warns about the volume');
      const doctor = await a.run(['doctor', '--format', 'json']);
      const report = JSON.parse(doctor.stdout) as { volumes: { id: string; problem: string }[] };
      assert.match(report.volumes.find((v) => v.id === id)?.problem ?? '', what, 'doctor reports it');
      // image rm works: another image goes; the image in use (iso-keep) is refused as in use, not with a storage error.
      const rmOther = await a.run(['image', 'rm', 'other:iso']);
      assert.equal(rmOther.code, 0, rmOther.stderr);
      const rmUsed = await a.run(['image', 'rm', IMAGE]);
      assert.equal(rmUsed.code, 5, rmUsed.stderr);
      assert.match(rmUsed.stderr, /is used by container volumes: .*iso-keep/);
      const del = await a.run(['delete', '--force', id]);
      assert.equal(del.code, 0, del.stderr);
      // A volume that is gone is a warning; an unmounted one is simply destroyed.
      if (gone) assert.match(del.stderr, new RegExp(`level=warn .*${volume} is gone already`), 'delete --force warns');
      assert.ok(!existsSync(join(berthStateDir(a.root), 'containers', id)), 'the record is gone');
      assert.equal(await driver.exists('container', volume), false, 'and no volume is left');
      const after = await a.run(['list', '--format', 'json']);
      assert.equal(after.stderr, '', 'nothing left to warn about');
      await a.ok(['image', 'import', join(tmp.path, 'image2', 'busybox-oci.tar'), '--name', 'other:iso']);
    }

    async function stoppedInA(id: string): Promise<string> {
      await a.ok(['run', '-d', '--image', IMAGE, id]);
      await a.ok(['kill', id, 'KILL']);
      await waitStopped(a, id);
      return (JSON.parse(a.record(id)) as { image: { volume: string } }).image.volume;
    }

    test('a volume removed by hand: list, image ls, image rm and doctor report it and work; delete --force warns and succeeds', async () => {
      await a.ok(['run', '-d', '--image', IMAGE, 'iso-keep']);
      const volume = await stoppedInA('iso-gone');
      await storage.removeByHand(volume);
      await assertReportedAndWorking('iso-gone', volume, /is missing/, true);
    });

    test('a volume unmounted by hand: reported, every verb works, delete --force removes it', async (t) => {
      if (!storage.unmountByHand) return t.skip('dir storage has no mounts');
      const volume = await stoppedInA('iso-unmounted');
      await storage.unmountByHand(volume);
      assert.equal(await storage.mounted(volume), false);
      await assertReportedAndWorking('iso-unmounted', volume, /is not mounted/, false);
    });

    test('a record written by 0.8.0 (version 1, the volume named by the id alone) is listed, stopped and deleted with its volume', async () => {
      const cache = await openImageCache({ storage: storage.config, stateDir: join(tmp.path, 'state') });
      // 0.8.0's create: a volume named by the id, carrying container-id only.
      const v = await cache.createContainerVolume(IMAGE, 'iso-old');
      assert.equal(v.volume, 'iso-old');
      const bundle = join(tmp.path, 'old-bundle');
      mkdirSync(bundle);
      const spec = busyboxConfig({ args: ['sleep', '300'] });
      spec.root = { path: v.path, readonly: false };
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
      await a.ok(['run', '-d', '--bundle', bundle, 'iso-old']);
      const now = JSON.parse(a.record('iso-old')) as Record<string, unknown>;
      // The shape 0.8.0 wrote (src/runtime/container-store.ts at 0.8.0): image {ref, digest, volume}.
      const old = {
        version: 1,
        id: now.id,
        backend: now.backend,
        backendReason: now.backendReason,
        bundle: now.bundle,
        rootfs: now.rootfs,
        created: now.created,
        owner: now.owner,
        annotations: now.annotations,
        image: { ref: IMAGE, digest: v.image.digest, volume: 'iso-old' },
        pid: now.pid,
        pidStartTime: now.pidStartTime,
        started: true,
      };
      writeFileSync(join(berthStateDir(a.root), 'containers', 'iso-old', 'record.json'), JSON.stringify(old, null, 2) + '\n');
      const list = await a.run(['list', '--format', 'json']);
      assert.equal(list.code, 0, list.stderr);
      const entry = (JSON.parse(list.stdout) as { id: string; status: string; image?: { digest: string }; volumeProblem?: string }[]).find((e) => e.id === 'iso-old');
      assert.equal(entry?.status, 'running');
      assert.equal(entry?.image?.digest, v.image.digest);
      assert.equal(entry?.volumeProblem, undefined, 'its volume is found where 0.8.0 put it');
      await a.ok(['stop', '--timeout', '1', 'iso-old']);
      assert.equal((await state(a, 'iso-old')).status, 'stopped');
      await a.ok(['delete', 'iso-old']);
      assert.ok(!existsSync(join(berthStateDir(a.root), 'containers', 'iso-old')));
      assert.equal(await driver.exists('container', 'iso-old'), false, "0.8.0's volume is removed");
    });

    test('a delete under another config (other storage) removes the volume the record names', async () => {
      await a.ok(['run', '-d', '--image', IMAGE, 'iso-cfg']);
      const volume = (JSON.parse(a.record('iso-cfg')) as { image: { volume: string } }).image.volume;
      const elsewhere = join(tmp.path, 'elsewhere');
      const otherConfig = writeConfig(join(tmp.path, 'other.toml'), `driver = "dir"\ndir = "${join(elsewhere, 'storage')}"`, join(elsewhere, 'state'));
      const r = await berth(['--root', a.root, '--config', otherConfig, 'delete', '--force', 'iso-cfg']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!existsSync(join(berthStateDir(a.root), 'containers', 'iso-cfg')));
      assert.equal(await driver.exists('container', volume), false, 'the volume in the recorded storage is gone');
      assert.ok(!existsSync(join(elsewhere, 'storage', 'containers')), 'nothing made in the other storage');
    });
  });
}

suite('the dir driver', missing('crun', 'busybox'), async (dir) => {
  const config = { driver: 'dir', dir: join(dir, 'storage') } as StorageConfig;
  const volumeDir = (v: string): string => join(config.dir, 'containers', v);
  return {
    config,
    toml: `driver = "dir"\ndir = "${config.dir}"`,
    removeByHand: async (v) => rmSync(volumeDir(v), { recursive: true, force: true }),
    mounted: async (v) => existsSync(join(volumeDir(v), 'fs')),
    cleanup: async () => undefined,
  };
});

let daemon: ZfsDaemon | undefined;
const pools: TestPool[] = [];
suite('a zfs-fuse pool', missing('crun', 'busybox') ?? zfsSkipReason(), async () => {
  const rig = await openZfsRig(pools);
  daemon = rig.daemon;
  const dataset = rig.driver.location;
  const ds = (v: string): string => `${dataset}/containers/${v}`;
  const zfs = async (...args: string[]): Promise<void> => {
    // zfs-fuse answers "dataset is busy" right after use: retry (REFERENCE.md).
    for (let i = 0; ; i++) {
      const r = await runTool(['zfs', ...args]);
      if (r.exitCode === 0) return;
      if (i > 20 || !/busy/.test(r.stderr)) throw new Error(`zfs ${args.join(' ')}: ${r.stderr}`);
      await sleep(100);
    }
  };
  return {
    config: { driver: 'zfs', dataset } as StorageConfig,
    toml: `driver = "zfs"\ndataset = "${dataset}"`,
    removeByHand: (v) => zfs('destroy', '-r', ds(v)),
    unmountByHand: (v) => zfs('unmount', ds(v)),
    mounted: async (v) => (await rig.daemon.cli.getOne(ds(v), 'mounted')) === 'yes',
    cleanup: () => closeZfsRig(daemon, pools),
  };
});
