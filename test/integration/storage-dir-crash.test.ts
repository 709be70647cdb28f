// The dir driver killed at any moment: SIGKILLs of a real process mid-copy, then the states a
// kill leaves between two steps (made by hand with the pid of a dead process), each repaired
// by the next step. Every check compares whole trees, so a partial or nested copy fails it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DirDriver } from '../../src/storage/dir/dir-driver.js';
import { buildTemplate } from '../../src/storage/template-build.js';
import { tempDir, walk } from '../helpers/bundle.js';
import { waitFor } from '../helpers/wait.js';

const tmp = tempDir('berth-dir-crash-');
after(() => tmp.remove());

/** A pid whose process has exited (and been reaped): what a SIGKILLed berth leaves in names. */
function deadPid(): number {
  const r = spawnSync('true');
  assert.ok(r.pid && r.status === 0);
  return r.pid;
}

let seq = 0;
/** A fresh driver with a sealed template of `files` small files, and one container volume of it. */
async function rig(files = 50): Promise<{ driver: DirDriver; id: string; fs: string }> {
  const driver = new DirDriver({ dir: join(tmp.path, `s${seq++}`) });
  await buildTemplate(driver, 'tpl', {}, async (p) => {
    for (let d = 0; d < Math.ceil(files / 100); d++) {
      mkdirSync(join(p, `d${d}`));
      for (let f = 0; f < 100 && d * 100 + f < files; f++) writeFileSync(join(p, `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(20));
    }
  });
  const fs = await driver.cloneTemplate('tpl', 'c1');
  return { driver, id: 'c1', fs };
}

const MODULE = new URL('../../src/storage/dir/dir-driver.js', import.meta.url).pathname;

/** Runs `call` on a DirDriver in a child process and SIGKILLs it `delayMs` after it starts. */
async function killedDuring(dir: string, call: string, delayMs: number): Promise<void> {
  const script = `const { DirDriver } = await import(${JSON.stringify(MODULE)}); const d = new DirDriver({ dir: ${JSON.stringify(dir)} }); process.stdout.write('go\\n'); await d.${call};`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Listened for from the start: a step quicker than the delay has exited before the kill.
  const exited = new Promise((r) => child.once('exit', r));
  await Promise.race([new Promise<void>((resolve) => child.stdout.once('data', () => resolve())), exited]);
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await exited;
}

describe('dir driver: killed mid-way, repaired by the next step', () => {
  test('snapshot create killed mid-copy: the retry makes a whole snapshot and rollback restores it exactly', async () => {
    const { driver, id, fs } = await rig(3000);
    const want = walk(fs);
    for (const delay of [0, 15, 40, 80, 150]) {
      const name = `s${delay}`;
      await killedDuring(driver.location, `snapshot(${JSON.stringify(id)}, ${JSON.stringify(name)})`, delay);
      // The copy died with its berth (no cp left writing into what the retry repairs).
      await waitFor('no cp left copying', () => (spawnSync('pgrep', ['-f', `cp -a --reflink=auto -- ${fs}`]).status === 1 ? true : undefined), 5_000);
      const listed = (await driver.listSnapshots(id)).map((s) => s.name);
      if (!listed.includes(name)) await driver.snapshot(id, name);
      const snapDir = join(driver.volumeDir('container', id), 'snapshots');
      assert.deepEqual(walk(join(snapDir, name)), want, `snapshot ${name} (killed at ${delay} ms) is a whole copy`);
    }
    writeFileSync(join(fs, 'later'), 'x');
    await driver.rollback(id, 's0', { discardNewer: true });
    assert.deepEqual(walk(fs), want);
    assert.deepEqual(readdirSync(join(driver.volumeDir('container', id), 'snapshots')), ['s0'], 'nothing but the kept snapshot');
  });

  test('destroy killed mid-way: the volume is gone or whole, and the next listing clears the rest', async () => {
    for (const delay of [0, 5, 20, 60]) {
      const { driver, id } = await rig(2000);
      await killedDuring(driver.location, `destroy('container', ${JSON.stringify(id)})`, delay);
      const exists = await driver.exists('container', id);
      if (exists) assert.equal((await driver.info('container', id)).origin, 'tpl', `killed at ${delay} ms: a volume that still exists is whole`);
      assert.deepEqual((await driver.list('container')).map((v) => v.name), exists ? [id] : []);
      assert.deepEqual(readdirSync(join(driver.location, 'containers')), exists ? [id] : [], `killed at ${delay} ms: no half-removed directory left`);
      if (exists) await driver.destroy('container', id);
      await driver.destroy('image', 'tpl');
    }
  });

  test('clone killed mid-copy: no volume appears, and the same name can be cloned again', async () => {
    for (const delay of [0, 20, 60]) {
      const driver = new DirDriver({ dir: join(tmp.path, `s${seq++}`) });
      await buildTemplate(driver, 'tpl', {}, async (p) => {
        for (let f = 0; f < 2000; f++) writeFileSync(join(p, `f${f}`), 'x'.repeat(200));
      });
      await killedDuring(driver.location, `cloneTemplate('tpl', 'c1')`, delay);
      if (!(await driver.exists('container', 'c1'))) {
        assert.deepEqual((await driver.list('container')).map((v) => v.name), []);
        await driver.cloneTemplate('tpl', 'c1');
      }
      assert.equal(walk((await driver.info('container', 'c1')).path).length, 2000);
      assert.deepEqual(readdirSync(join(driver.location, 'containers')), ['c1'], `killed at ${delay} ms: no staged copy left`);
    }
  });

  test('rollback killed between its renames: the complete copy goes into place', async () => {
    const { driver, id, fs } = await rig();
    await driver.snapshot(id, 'a');
    const want = walk(fs);
    writeFileSync(join(fs, 'after-a'), 'x');
    const dir = driver.volumeDir('container', id);
    const pid = deadPid();
    // As rollback leaves it: the snapshot copied and marked ready, the old fs moved aside.
    spawnSync('cp', ['-a', join(dir, 'snapshots', 'a'), join(dir, `fs.ready-${pid}`)]);
    renameSync(join(dir, 'fs'), join(dir, `fs.old-${pid}`));
    await driver.snapshot(id, 'b'); // any change to the volume repairs it first
    assert.deepEqual(walk(fs), want);
    assert.deepEqual(readdirSync(dir).sort(), ['fs', 'snapshots', 'volume.json']);
  });

  test('rollback killed before its copy was complete: the old fs comes back', async () => {
    const { driver, id, fs } = await rig();
    await driver.snapshot(id, 'a');
    writeFileSync(join(fs, 'after-a'), 'x');
    const want = walk(fs);
    const dir = driver.volumeDir('container', id);
    const pid = deadPid();
    mkdirSync(join(dir, `fs.rollback-${pid}`)); // a copy killed half-way
    renameSync(join(dir, 'fs'), join(dir, `fs.old-${pid}`)); // not a state rollback makes, but the safe answer to it
    await driver.destroySnapshot(id, 'a');
    assert.deepEqual(walk(fs), want);
    assert.deepEqual(readdirSync(dir).sort(), ['fs', 'snapshots', 'volume.json']);
  });

  test('a recorded snapshot whose rename did not happen is moved into place; one being removed is finished', async () => {
    const { driver, id, fs } = await rig();
    await driver.snapshot(id, 'a');
    await driver.snapshot(id, 'b');
    const snaps = join(driver.volumeDir('container', id), 'snapshots');
    const pid = deadPid();
    renameSync(join(snaps, 'a'), join(snaps, `.partial-${pid}-a`));
    renameSync(join(snaps, 'b'), join(snaps, `.gone-${pid}-b`));
    await driver.snapshot(id, 'c');
    assert.deepEqual((await driver.listSnapshots(id)).map((s) => s.name), ['a', 'c']);
    assert.deepEqual(readdirSync(snaps).sort(), ['a', 'c']);
    assert.deepEqual(walk(join(snaps, 'a')), walk(fs));
  });

  test('what 0.8.0 left: a partial snapshot in place, a volume without volume.json', async () => {
    const { driver, id, fs } = await rig();
    const snaps = join(driver.volumeDir('container', id), 'snapshots');
    mkdirSync(join(snaps, 's1', 'd0'), { recursive: true }); // a copy killed in place, unrecorded
    writeFileSync(join(snaps, 's1', 'd0', 'f0'), 'torn');
    await driver.snapshot(id, 's1');
    assert.deepEqual(walk(join(snaps, 's1')), walk(fs), 'the retry is a whole copy, with no fs/ nested in it');

    const broken = driver.volumeDir('container', 'c2');
    mkdirSync(join(broken, 'fs'), { recursive: true }); // a removal that took volume.json first
    assert.equal(await driver.exists('container', 'c2'), false);
    assert.deepEqual((await driver.list('container')).map((v) => v.name), [id]);
    assert.equal(existsSync(broken), false, 'the listing removed it');
    await driver.cloneTemplate('tpl', 'c2');
    assert.equal((await driver.info('container', 'c2')).origin, 'tpl');
  });

  test('leftovers of a live process are left alone', async () => {
    const { driver, id } = await rig();
    const live = spawn('sleep', ['30']);
    try {
      const kindDir = join(driver.location, 'containers');
      mkdirSync(join(kindDir, `.new-${live.pid}-c9`));
      mkdirSync(join(kindDir, `.gone-${deadPid()}-c8`));
      const snaps = join(driver.volumeDir('container', id), 'snapshots');
      mkdirSync(join(snaps, `.partial-${live.pid}-x`), { recursive: true });
      await driver.list('container');
      await driver.snapshot(id, 'y');
      assert.deepEqual(readdirSync(kindDir).sort(), [`.new-${live.pid}-c9`, id]);
      assert.deepEqual(readdirSync(snaps).sort(), [`.partial-${live.pid}-x`, 'y']);
    } finally {
      live.kill('SIGKILL');
    }
    // Its owner gone, the next listing clears it.
    await new Promise((r) => live.once('exit', r));
    await driver.list('container');
    assert.deepEqual(readdirSync(join(driver.location, 'containers')), [id]);
    assert.ok(readFileSync(join(driver.volumeDir('container', id), 'volume.json'), 'utf8').includes('"y"'));
  });
});
