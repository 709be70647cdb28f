import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BusyError } from '../../../src/core/errors.js';
import { holderFile } from '../../../src/core/lock-holder.js';
import { isDirectoryLocked, lockDirectory } from '../../../src/core/lock.js';
import { killProcessTree } from '../../../src/core/proc.js';
import { tempDir } from '../../helpers/bundle.js';

const LOCK_JS = new URL('../../../src/core/lock.js', import.meta.url).pathname;

async function waitLocked(path: string): Promise<void> {
  for (let i = 0; i < 300 && !(await isDirectoryLocked(path)); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await isDirectoryLocked(path), true, 'the other process holds the lock');
}

test('a lock held too long gives BERTH_ERR_BUSY naming the holder (pid, command line, what runs below it) and the way out', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const dir = join(tmp.path, 'c1');
  mkdirSync(dir);
  // Another process takes the lock through berth's own code, then runs a child that hangs.
  const script = `const { lockDirectory } = await import(${JSON.stringify(LOCK_JS)}); await lockDirectory(process.argv[1], { what: 'x' }); require('node:child_process').spawn('sleep', ['1011'], { stdio: 'ignore' }); setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${script} })()`, dir], { stdio: 'ignore' });
  t.after(() => killProcessTree(holder.pid!, undefined));
  await waitLocked(dir);
  for (let i = 0; i < 100 && !existsSync(holderFile(dir)); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100)); // its child started
  await assert.rejects(lockDirectory(dir, { what: 'container "c1"', timeoutMs: 100, wayOut: 'or else' }), (err: unknown) => {
    assert.ok(err instanceof BusyError && err.code === 'BERTH_ERR_BUSY');
    assert.equal(err.holder?.pid, holder.pid);
    assert.match(err.message, new RegExp(`container "c1" is locked by pid ${holder.pid} \\(\`.*node.*\`\\) for \\d+ s; below it: \\d+ \`sleep 1011\``));
    assert.match(err.message, new RegExp(`end it with \`kill ${holder.pid}\`; or else`));
    return true;
  });
});

test('a holder that wrote no holder file (flock(1)) is found in /proc/locks', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const holder = spawn('flock', [tmp.path, 'sleep', '1012'], { stdio: 'ignore' });
  t.after(() => killProcessTree(holder.pid!, undefined));
  await waitLocked(tmp.path);
  await assert.rejects(lockDirectory(tmp.path, { what: 'dir', timeoutMs: 50 }), (err: unknown) => {
    assert.ok(err instanceof BusyError);
    // flock(1) takes the lock and then forks the command: the pid is flock's.
    assert.equal(err.holder?.pid, holder.pid);
    assert.match(err.message, new RegExp(`dir is locked by pid ${holder.pid} \\(\`flock ${tmp.path} sleep 1012\`\\); below it: \\d+ \`sleep 1012\``));
    return true;
  });
});

test('the holder file is written on taking the lock and removed on release', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const dir = join(tmp.path, 'c1');
  mkdirSync(dir);
  const lock = await lockDirectory(dir, { what: 'x' });
  assert.ok(existsSync(holderFile(dir)));
  lock!.release();
  assert.equal(existsSync(holderFile(dir)), false);
});

test('the kernel drops the lock of a process that dies: no stale lock blocks the next holder', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  // flock(1) from util-linux takes the same kind of lock in another process, which is then
  // killed with its child (one process group), never unlocking.
  const holder = spawn('flock', [tmp.path, 'sleep', '30'], { stdio: 'ignore', detached: true });
  await waitLocked(tmp.path);
  const exited = new Promise((r) => holder.on('exit', r));
  process.kill(-holder.pid!, 'SIGKILL');
  await exited;
  const lock = await lockDirectory(tmp.path, { what: 'dir', timeoutMs: 2000 });
  assert.ok(lock, 'taken at once after the holder died');
  lock.release();
});
