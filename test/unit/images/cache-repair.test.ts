// The image cache's recovery rules (cache-repair.ts) on the states a killed berth leaves, made
// by hand on a dir driver in a temp dir; and the bounded names of unpack messages.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { REMOVING, repairUnfinished, unfinished } from '../../../src/images/cache-repair.js';
import { ImageIndex } from '../../../src/images/image-index.js';
import { shownName } from '../../../src/images/rootfs-writer.js';
import { sizeInBytes } from '../../../src/core/sizes.js';
import { DirDriver } from '../../../src/storage/dir/dir-driver.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-cache-repair-');
after(() => tmp.remove());
let n = 0;
const digest = (c: string): string => `sha256:${c.repeat(64)}`;

function rig(): { driver: DirDriver; index: ImageIndex } {
  n++;
  return { driver: new DirDriver({ dir: `${tmp.path}/s${n}` }), index: new ImageIndex(`${tmp.path}/state${n}`) };
}

async function sealed(driver: DirDriver, d: string, properties: Record<string, string> = {}): Promise<void> {
  await driver.createTemplate(d, { digest: d, ...properties });
  await driver.sealTemplate(d);
}

describe('cache repair', () => {
  test('what counts as unfinished: unsealed, or marked removing; a sealed image of ours is not', async () => {
    const { driver } = rig();
    await driver.createTemplate(digest('a'), { digest: digest('a') });
    await sealed(driver, digest('b'));
    await sealed(driver, digest('c'), { [REMOVING]: '1' });
    await driver.createTemplate('not-a-digest');
    const states = Object.fromEntries((await driver.list('image')).map((t) => [t.name, unfinished(t)]));
    assert.deepEqual(states, { [digest('a')]: 'partial', [digest('b')]: undefined, [digest('c')]: 'removing', 'not-a-digest': undefined });
  });

  test('a partial template is destroyed, a marked removal finished, their index entries dropped; whole images stay', async () => {
    const { driver, index } = rig();
    await driver.createTemplate(digest('a'), { digest: digest('a') });
    await sealed(driver, digest('b'));
    await sealed(driver, digest('c'), { [REMOVING]: '1' });
    index.write({ [digest('c')]: { digest: digest('c') } as never });
    const left = await repairUnfinished(driver, index, await driver.list('image'), 'test');
    assert.deepEqual(left.map((t) => t.name), [digest('b')]);
    assert.deepEqual((await driver.list('image')).map((t) => t.name), [digest('b')]);
    assert.deepEqual(index.read(), {});
  });

  test('a marked template that still has container volumes is parked, never destroyed', async () => {
    const { driver, index } = rig();
    await sealed(driver, digest('d'));
    await driver.cloneTemplate(digest('d'), 'c1');
    await driver.setProperties('image', digest('d'), { [REMOVING]: '1' });
    const left = await repairUnfinished(driver, index, await driver.list('image'), 'test');
    assert.deepEqual(left.map((t) => [t.name, t.properties.parked, t.properties[REMOVING]]), [[digest('d'), '1', undefined]]);
  });

  test('a template whose digest lock is held (an import or removal at work) is left alone', async () => {
    const { driver, index } = rig();
    await driver.createTemplate(digest('e'), { digest: digest('e') });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = index.withDigestLock(digest('e'), async () => {
      locked();
      await held;
    });
    await isLocked;
    // The holder is this process: its flock is on another descriptor, so it counts as held.
    const left = await repairUnfinished(driver, index, await driver.list('image'), 'test');
    assert.deepEqual(left, []);
    assert.equal(await driver.exists('image', digest('e')), true);
    release();
    await holder;
    await repairUnfinished(driver, index, await driver.list('image'), 'test');
    assert.equal(await driver.exists('image', digest('e')), false);
  });
});

describe('bounded names and sizes', () => {
  test('a long name is shown as its start, its end and its length', () => {
    assert.equal(shownName('short'), 'short');
    const long = 'a'.repeat(2000) + 'z'.repeat(2096);
    const shown = shownName(long);
    assert.ok(shown.length < 220, shown);
    assert.match(shown, /^a{120}…z{60} \(4096 bytes\)$/);
  });

  test('sizes as people write them', () => {
    assert.equal(sizeInBytes('16G'), 16 * 1024 ** 3);
    assert.equal(sizeInBytes('1.5k'), 1536);
    assert.equal(sizeInBytes('10 MiB'), 10 * 1024 ** 2);
    assert.equal(sizeInBytes('7'), 7);
    assert.equal(sizeInBytes('lots'), undefined);
    assert.equal(sizeInBytes('-1G'), undefined);
  });
});
