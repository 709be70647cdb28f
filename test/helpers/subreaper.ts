// A child subreaper for tests (test/helpers/subreaper.c, built with gcc on first use): runs a
// runtime's `exec --detach` the way conmon or containerd's shim does, and tells which processes
// were reparented to it and how they ended.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProgram, type BerthResult } from './berth.js';
import { REPO_ROOT } from './paths.js';

const SOURCE = join(REPO_ROOT, 'test/helpers/subreaper.c');

export interface Reaped {
  /** The command's output (its exit: `command`). */
  result: BerthResult;
  /** How the command itself ended: "exit N" or "signal N". */
  command: string | undefined;
  /** Every process the subreaper reaped after the command, by pid: "exit N" or "signal N". */
  reaped: Map<number, string>;
}

/** Builds the subreaper into DIR (gcc), returns its path. */
export function buildSubreaper(dir: string): string {
  const bin = join(dir, 'subreaper');
  if (!existsSync(bin)) execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', bin, SOURCE]);
  return bin;
}

/** Runs argv under the subreaper and waits until every process reparented to it has ended. */
export async function underSubreaper(bin: string, outFile: string, argv: string[], timeoutMs = 30_000): Promise<Reaped> {
  const result = await runProgram(bin, [outFile, ...argv], { timeoutMs });
  const lines = readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean);
  const reaped = new Map<number, string>();
  let command: string | undefined;
  for (const l of lines) {
    const [pid, kind, n] = l.split(' ');
    if (pid === 'cmd') command = `${kind} ${n}`;
    else reaped.set(Number(pid), `${kind} ${n}`);
  }
  return { result, command, reaped };
}
