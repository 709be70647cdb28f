// Which volume a container record names: version 2 says where, a 0.8.0 record (version 1) says
// at most the name, in the configured storage; and the reports of list/doctor over real dir storage.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ContainerRecord } from '../../../src/runtime/container-store.js';
import { destroyRecordedVolume, recordedVolume, volumeReports } from '../../../src/runtime/container-volume.js';
import { Runtime } from '../../../src/runtime/runtime.js';
import { tempDir } from '../../helpers/bundle.js';

const DIGEST = 'sha256:' + 'a'.repeat(64);

function runtimeIn(dir: string): Runtime {
  const config = join(dir, 'config.toml');
  writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${join(dir, 'storage')}"\nstate_dir = "${join(dir, 'state')}"\n`);
  return new Runtime({ root: join(dir, 'root'), debug: false, systemdCgroup: false, runtimeOverride: undefined, configPath: config });
}

function record(id: string, extra: Partial<ContainerRecord>): ContainerRecord {
  return { version: 2, id, backend: 'crun', backendReason: 'test', bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00Z', owner: 'root', annotations: {}, ...extra };
}

test('the volume a record names: version 2 as recorded, 0.8.0 in the configured storage by its recorded or old-scheme name', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const runtime = runtimeIn(tmp.path);
  const at = { driver: 'zfs' as const, location: 'tank/elsewhere' };
  assert.deepEqual(await recordedVolume(runtime, record('c1', { image: { ref: 'bb:1', digest: DIGEST, volume: '0123456789-c1', storage: at, rootId: '0123456789' } })), {
    at,
    volume: '0123456789-c1',
    rootId: '0123456789',
    expected: true,
  });
  assert.equal(await recordedVolume(runtime, record('c1', { image: { ref: 'bb:1', digest: DIGEST } })), undefined, 'version 2 without a volume: the backend keeps the rootfs');
  assert.equal(await recordedVolume(runtime, record('c1', {})), undefined, 'made from a bundle');
  assert.deepEqual(await recordedVolume(runtime, record('c1', { version: 1, image: { ref: 'bb:1', digest: DIGEST, volume: 'c1' } })), { at: undefined, volume: 'c1', rootId: undefined, expected: true });
  assert.deepEqual(await recordedVolume(runtime, record('a+b', { version: 1, image: { ref: 'bb:1', digest: DIGEST } })), {
    at: undefined,
    volume: (await runtime.images()).containerVolumeName('a+b'),
    rootId: undefined,
    expected: false,
  });
});

test("reports: a record's volume missing, its files gone, or another's; delete of a gone volume warns and goes on", async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const runtime = runtimeIn(tmp.path);
  const storage = { driver: 'dir' as const, location: join(tmp.path, 'storage') };
  const volumeDir = (v: string): string => join(storage.location, 'containers', v);
  const make = (v: string, properties: Record<string, string>): void => {
    mkdirSync(join(volumeDir(v), 'fs'), { recursive: true });
    writeFileSync(join(volumeDir(v), 'volume.json'), JSON.stringify({ properties, sealed: false, snapshots: [] }));
  };
  const r = (id: string, volume: string): ContainerRecord => record(id, { image: { ref: undefined, digest: DIGEST, volume, storage, rootId: '0123456789' } });
  make('0123456789-ok', { 'container-id': 'ok', 'root-id': '0123456789' });
  make('0123456789-nofiles', { 'container-id': 'nofiles', 'root-id': '0123456789' });
  rmSync(join(volumeDir('0123456789-nofiles'), 'fs'), { recursive: true });
  make('0123456789-theirs', { 'container-id': 'theirs', 'root-id': 'abcdefabcd' });
  const records = [r('ok', '0123456789-ok'), r('gone', '0123456789-gone'), r('nofiles', '0123456789-nofiles'), r('theirs', '0123456789-theirs')];
  const reports = await volumeReports(runtime, records);
  assert.deepEqual(
    [...reports.values()].map((x) => [x.id, x.health]),
    [['ok', 'ok'], ['gone', 'missing'], ['nofiles', 'unmounted'], ['theirs', 'not-ours']],
  );
  assert.match(reports.get('gone')!.problem!, new RegExp(`its volume dir ${storage.location}/containers/0123456789-gone is missing`));
  assert.match(reports.get('theirs')!.problem!, /belongs to container "theirs" of root abcdefabcd/);
  const unreadable = await volumeReports(runtime, [record('far', { image: { ref: undefined, digest: DIGEST, volume: 'v', storage: { driver: 'dir', location: 'not/absolute' }, rootId: '0123456789' } })]);
  assert.equal(unreadable.get('far')?.health, 'unreachable', 'a recorded storage that cannot be opened is reported, not thrown');

  await destroyRecordedVolume(runtime, records[1]!, false); // gone: a warning, no error
  await destroyRecordedVolume(runtime, records[3]!, false); // another root's: left alone
  assert.deepEqual((await volumeReports(runtime, [records[3]!])).get('theirs')?.health, 'not-ours');
  await destroyRecordedVolume(runtime, records[0]!, false);
  assert.equal((await volumeReports(runtime, [records[0]!])).get('ok')?.health, 'missing', 'its own volume destroyed');
  await assert.rejects(destroyRecordedVolume(runtime, (record('far', { image: { ref: undefined, digest: DIGEST, volume: 'v', storage: { driver: 'dir', location: 'x' }, rootId: '0123456789' } })), false), /recorded storage/);
  await destroyRecordedVolume(runtime, record('far', { image: { ref: undefined, digest: DIGEST, volume: 'v', storage: { driver: 'dir', location: 'x' }, rootId: '0123456789' } }), true); // --force: a warning
});
