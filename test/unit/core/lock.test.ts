import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BusyError } from '../../../src/core/errors.js';
import { isDirectoryLocked, lockDirectory } from '../../../src/core/lock.js';
import { tempDir } from '../../helpers/bundle.js';

test('a lock held too long gives BERTH_ERR_BUSY naming what is locked', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const dir = join(tmp.path, 'c1');
  mkdirSync(dir);
  const held = await lockDirectory(dir, { what: 'container "c1"' });
  t.after(() => held?.release());
  await assert.rejects(lockDirectory(dir, { what: 'container "c1"', timeoutMs: 100 }), (err: unknown) => {
    return err instanceof BusyError && err.code === 'BERTH_ERR_BUSY' && err.message.includes('container "c1" is locked by another berth process');
  });
});

test('the kernel drops the lock of a process that dies: no stale lock blocks the next holder', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  // flock(1) from util-linux takes the same kind of lock in another process, which is then
  // killed with its child (one process group), never unlocking.
  const holder = spawn('flock', [tmp.path, 'sleep', '30'], { stdio: 'ignore', detached: true });
  for (let i = 0; i < 200 && !(await isDirectoryLocked(tmp.path)); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await isDirectoryLocked(tmp.path), true, 'the other process holds the lock');
  const exited = new Promise((r) => holder.on('exit', r));
  process.kill(-holder.pid!, 'SIGKILL');
  await exited;
  const lock = await lockDirectory(tmp.path, { what: 'dir', timeoutMs: 2000 });
  assert.ok(lock, 'taken at once after the holder died');
  lock.release();
});
