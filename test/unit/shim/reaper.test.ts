// The engine's reaper with real processes: orphans reparented to this (subreaper) process are
// reaped by pid, with the status containerd expects (exit code, 128 + signal).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Reaper, type Exit } from '../../../src/shim/reaper.js';

/** Starts `script` in a background subshell of a shell that exits at once: the subshell is orphaned to us. */
function orphan(script: string): number {
  return Number(execFileSync('sh', ['-c', `(${script}) >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' }).trim());
}

test('orphans are reaped with their exit code or 128 + signal, also when watched after they exited', async () => {
  const reaper = new Reaper();
  reaper.start();
  const wait = (pid: number): Promise<Exit> => new Promise((resolve) => reaper.watch(pid, resolve));
  const [code, killed] = await Promise.all([wait(orphan('sleep 0.2; exit 7')), wait(orphan('sleep 0.2; kill -TERM $(sh -c "echo \\$PPID")'))]);
  assert.equal(code.exitStatus, 7);
  assert.equal(killed.exitStatus, 128 + 15);
  // Exited (a zombie) before anyone watched it: reaped at once when watched.
  // (after the shell has exited: a shell may reap a job that ends before it does)
  const early = orphan('sleep 0.1; exit 3');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await wait(early)).exitStatus, 3);
});
