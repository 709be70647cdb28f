import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { commandLine, descendants, isSameLiveProcess, killProcessTree, readProcStat } from '../../../src/core/proc.js';

test('killProcessTree kills a process and everything below it, even what it forks meanwhile', async () => {
  // A shell that keeps starting sleeps in the background, as a hook that forks would.
  const sh = spawn('sh', ['-c', 'sleep 1013 & sleep 1013 & while :; do sleep 1013 & sleep 0.01; done'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 200));
  const below = descendants(sh.pid!).filter((p) => commandLine(p) === 'sleep 1013');
  assert.ok(below.length >= 2, `children found: ${below.join(' ')}`);
  const killed = await killProcessTree(sh.pid!, readProcStat(sh.pid!)?.startTime);
  assert.ok(killed.includes(sh.pid!));
  for (const p of below) assert.ok(killed.includes(p), `${p} killed`);
  await new Promise((r) => setTimeout(r, 50));
  for (const p of killed) assert.equal(isSameLiveProcess(p, undefined), false, `${p} is dead`);
});

test('killProcessTree leaves a pid alone whose start time is not the recorded one', async () => {
  const sh = spawn('sleep', ['1014'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await killProcessTree(sh.pid!, (readProcStat(sh.pid!)?.startTime ?? 0) + 1), []);
    assert.equal(isSameLiveProcess(sh.pid!, undefined), true);
  } finally {
    sh.kill('SIGKILL');
  }
});
