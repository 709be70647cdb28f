// doctor finds what killed berths left in a state root and `doctor --repair` finishes or rolls
// it back (runtime/crash-repair.ts): each residue is made for real, by a berth SIGKILLed at a
// named step (BERTH_TEST_CRASH_AT) with real crun and dir storage, then doctor reports it (exit
// 1, a warning naming it), --repair repairs it (exit 0 when nothing else is wrong), and a second
// doctor finds nothing. The host's own checks (cgroups, backends) are not this test's: only the
// residue lines and the report's `residue` are judged.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CRASH_ENV } from '../../src/core/crash-point.js';
import type { DoctorReport } from '../../src/runtime/doctor.js';
import { berth, type BerthResult } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { missing } from '../helpers/host.js';
import { buildOciLayout, busyboxLayerDir } from '../helpers/oci-image.js';
import { berthStateDir } from '../../src/core/state-root.js';

const tmp = tempDir('berth-doctor-repair-');
after(() => tmp.remove());

describe('doctor --repair: what killed berths left, found, repaired, and gone', { skip: missing('crun', 'busybox') }, () => {
  let n = 0;
  let layout: string;
  before(async () => {
    mkdirSync(join(tmp.path, 'img'));
    layout = (await buildOciLayout(join(tmp.path, 'img'), { images: [{ layers: [{ dir: busyboxLayerDir(join(tmp.path, 'rootfs')) }] }] })).layout;
  });

  /** A fresh root and dir storage, and a way to run berth in it. */
  function rig() {
    const dir = join(tmp.path, `r${++n}`);
    mkdirSync(dir);
    const config = join(dir, 'config.toml');
    writeFileSync(config, `default_runtime = "crun-cli"\n\n[storage]\ndriver = "dir"\ndir = "${join(dir, 'storage')}"\nstate_dir = "${join(dir, 'state')}"\n`);
    const root = join(dir, 'root');
    const run = (args: string[], crashAt?: string): Promise<BerthResult> =>
      berth(['--root', root, '--config', config, ...args], crashAt ? { env: { ...process.env, [CRASH_ENV]: crashAt } } : {});
    const ok = async (args: string[]): Promise<string> => {
      const r = await run(args);
      assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const killed = async (args: string[], point: string): Promise<void> => {
      const r = await run(args, point);
      assert.equal(r.code, null, `berth ${args.join(' ')} killed itself at ${point}: ${r.stderr}`);
    };
    const doctor = async (repair = false): Promise<DoctorReport> => {
      const r = await run(['doctor', '--format', 'json', ...(repair ? ['--repair'] : [])]);
      assert.ok(r.code !== null && r.code <= 2, r.stderr);
      return JSON.parse(r.stdout) as DoctorReport;
    };
    /** doctor names these (and only these), --repair repairs them, a second doctor finds nothing. */
    const repairs = async (...expect: RegExp[]): Promise<void> => {
      const found = await doctor();
      const said = found.residue.map((r) => `${r.subject}: ${r.problem}`);
      assert.equal(said.length, expect.length, JSON.stringify(said));
      expect.forEach((e, i) => assert.match(said[i]!, e));
      assert.ok(found.residue.every((r) => r.outcome === undefined), 'doctor alone repairs nothing');
      assert.equal(found.checks.filter((c) => c.level === 'warn' && c.what === 'crash residue' && /berth doctor --repair/.test(c.message)).length, expect.length);
      const again = await doctor();
      assert.deepEqual(again.residue, found.residue, 'doctor alone changed nothing');
      const repaired = await doctor(true);
      assert.deepEqual(
        repaired.residue.map((r) => r.outcome),
        expect.map(() => 'repaired'),
        JSON.stringify(repaired.residue),
      );
      assert.equal(repaired.checks.filter((c) => c.level === 'ok' && c.what === 'repaired').length, expect.length);
      assert.deepEqual((await doctor()).residue, [], 'nothing left after the repair');
    };
    return { root, dir, run, ok, killed, doctor, repairs };
  }

  test('a clean root has no residue', async () => {
    const r = rig();
    const bundle = makeBusyboxBundle(join(r.dir, 'bundle'));
    await r.ok(['create', '--bundle', bundle, 'c1']);
    const report = await r.doctor();
    assert.deepEqual(report.residue, []);
    assert.ok(report.checks.some((c) => c.what === 'crash residue' && c.level === 'ok'));
    await r.ok(['delete', '--force', 'c1']);
  });

  test('create killed after crun made the container: the init is recorded, and start runs it', async () => {
    const r = rig();
    const bundle = makeBusyboxBundle(join(r.dir, 'bundle'));
    await r.killed(['create', '--bundle', bundle, 'c1'], 'after-backend-create');
    await r.repairs(/container "c1": its create was cut short after crun-cli made it: the init \(pid \d+\) is not in the record/);
    await r.ok(['start', 'c1']);
    assert.equal(JSON.parse(await r.ok(['state', 'c1'])).status, 'running');
    await r.ok(['delete', '--force', 'c1']);
  });

  test('create killed before crun answered: rolled back, nothing left, the id is free', async () => {
    const r = rig();
    const bundle = makeBusyboxBundle(join(r.dir, 'bundle'));
    await r.killed(['create', '--bundle', bundle, 'c1'], 'before-backend-create');
    await r.repairs(/container "c1": its create was killed before the backend answered/);
    assert.deepEqual(JSON.parse(await r.ok(['list', '--format', 'json'])), []);
    assert.deepEqual(rootCgroups(r.root), []);
    await r.ok(['create', '--bundle', bundle, 'c1']);
    await r.ok(['delete', '--force', 'c1']);
  });

  test('run -d killed after crun started it: recorded as started', async () => {
    const r = rig();
    const bundle = makeBusyboxBundle(join(r.dir, 'bundle'));
    await r.killed(['run', '-d', '--bundle', bundle, 'c1'], 'after-backend-start');
    await r.repairs(/container "c1": it runs while its record says created/);
    await r.ok(['pause', 'c1']);
    await r.ok(['delete', '--force', 'c1']);
  });

  test('create --image killed between its volume and its record: the volume is destroyed', async () => {
    const r = rig();
    await r.ok(['image', 'import', layout, '--name', 'busybox:test']);
    await r.killed(['create', '--image', 'busybox:test', 'c1'], 'create:volume');
    // The id's directory (its lock) is left too: nothing in it yet.
    await r.repairs(/container directory .*c1: no record in it/, /no record names it \(a create --image of "c1" was killed/);
    assert.deepEqual(readdirSync(join(r.dir, 'storage', 'containers')), []);
    const images = JSON.parse(await r.ok(['image', 'ls', '--format', 'json'])) as { containers: unknown[] }[];
    assert.deepEqual(images[0]!.containers, []);
  });

  test('image import killed after the unpack, before the seal: the partial template is destroyed, a re-import works', async () => {
    const r = rig();
    await r.killed(['image', 'import', layout, '--name', 'busybox:test'], 'image-import:unpacked');
    await r.repairs(/image sha256:[0-9a-f]+: a partial template of an interrupted import/);
    await r.ok(['image', 'import', layout, '--name', 'busybox:test']);
  });

  test('image rm killed after its mark: the removal is finished', async () => {
    const r = rig();
    await r.ok(['image', 'import', layout, '--name', 'busybox:test']);
    await r.killed(['image', 'rm', 'busybox:test'], 'image-rm:marked');
    await r.repairs(/a removal an interrupted berth began/);
    assert.deepEqual(JSON.parse(await r.ok(['image', 'ls', '--format', 'json'])), []);
  });

  test('a container directory without a record, and a dead holder\'s lock file: removed', async () => {
    const r = rig();
    mkdirSync(join(berthStateDir(r.root), 'containers', 'ghost'), { recursive: true });
    writeFileSync(join(berthStateDir(r.root), 'containers', 'ghost', 'init.pid'), '999999');
    await r.repairs(/container directory .*ghost: no record in it/);
    writeFileSync(join(berthStateDir(r.root), 'containers', '.gone.holder'), JSON.stringify({ pid: 999999, command: 'berth create gone' }));
    await r.repairs(/lock holder file .*\.gone\.holder: its container directory is gone/);
    assert.equal(existsSync(join(berthStateDir(r.root), 'containers', '.gone.holder')), false);
  });
});
