import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Revert } from '../../../src/core/revert.js';

describe('Revert', () => {
  test('runs the undos newest first', async () => {
    const r = new Revert();
    const order: string[] = [];
    r.add('a', () => order.push('a'));
    r.add('b', () => order.push('b'));
    r.add('c', () => order.push('c'));
    assert.deepEqual(await r.run(), []);
    assert.deepEqual(order, ['c', 'b', 'a']);
  });

  test('awaits async undos one after the other', async () => {
    const r = new Revert();
    const order: string[] = [];
    r.add('slow', async () => {
      await new Promise((res) => setTimeout(res, 20));
      order.push('slow');
    });
    r.add('fast', async () => {
      await new Promise((res) => setTimeout(res, 1));
      order.push('fast');
    });
    await r.run();
    assert.deepEqual(order, ['fast', 'slow']);
  });

  test('a failing undo is reported, and the rest still run', async () => {
    const r = new Revert();
    const order: string[] = [];
    const boom = new Error('boom');
    r.add('first', () => order.push('first'));
    r.add('sync failure', () => {
      throw boom;
    });
    r.add('async failure', async () => {
      throw new Error('async boom');
    });
    r.add('last', () => order.push('last'));
    const failures = await r.run();
    assert.deepEqual(order, ['last', 'first']);
    assert.equal(failures.length, 2);
    assert.equal(failures[0]!.what, 'async failure');
    assert.equal((failures[0]!.error as Error).message, 'async boom');
    assert.equal(failures[1]!.what, 'sync failure');
    assert.equal(failures[1]!.error, boom);
  });

  test('commit keeps what was done: run afterwards does nothing', async () => {
    const r = new Revert();
    let ran = false;
    r.add('x', () => (ran = true));
    r.commit();
    assert.deepEqual(await r.run(), []);
    assert.equal(ran, false);
  });

  test('each undo runs at most once', async () => {
    const r = new Revert();
    let count = 0;
    r.add('x', () => count++);
    await r.run();
    await r.run();
    assert.equal(count, 1);
  });

  test('undos added after a commit are reverted', async () => {
    const r = new Revert();
    const order: string[] = [];
    r.add('before', () => order.push('before'));
    r.commit();
    r.add('after', () => order.push('after'));
    await r.run();
    assert.deepEqual(order, ['after']);
  });

  test('an empty revert', async () => {
    assert.deepEqual(await new Revert().run(), []);
  });
});
