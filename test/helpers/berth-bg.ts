// berth started in the background (a verb that hangs, a crowd of racing verbs), its output in
// files, for tests that act while it runs or kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killProcessTree } from '../../src/core/proc.js';
import { berth } from './berth.js';
import { BERTH_BIN } from './paths.js';

export interface Background {
  child: ChildProcess;
  /** Settles when berth exits: its code (null when killed), signal and output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts berth with `args`; `detached` gives it a process group of its own (to kill it whole). */
export function berthInBackground(args: string[], options: { env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Background {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bg-'));
  const outFd = openSync(join(dir, 'stdout'), 'w');
  const errFd = openSync(join(dir, 'stderr'), 'w');
  const child = spawn(BERTH_BIN, args, { env: options.env ?? process.env, stdio: ['ignore', outFd, errFd], detached: options.detached ?? false });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      closeSync(outFd);
      closeSync(errFd);
      const out = { code, signal, stdout: readFileSync(join(dir, 'stdout'), 'utf8'), stderr: readFileSync(join(dir, 'stderr'), 'utf8') };
      rmSync(dir, { recursive: true, force: true });
      resolve(out);
    });
  });
  return { child, done };
}

/**
 * After a test (passed or failed): ends what it left running in the background (with every
 * process below it) and removes its containers, so a failure leaves no hung hook behind.
 */
export async function cleanUp(root: string, running: Background[], ids: string[]): Promise<void> {
  for (const bg of running) if (bg.child.exitCode === null && bg.child.signalCode === null) await killProcessTree(bg.child.pid!, undefined);
  for (const id of ids) await berth(['--root', root, 'delete', '--force', id]);
}
