// Runs the real berth CLI as a user or containerd would.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_BIN } from './paths.js';

export interface BerthResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface BerthRunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * Runs berth with its stdout and stderr in files, and waits for berth itself to exit: a created
 * container inherits berth's stdio (as with runc), so pipes would stay open as long as it lives.
 */
export function berth(args: string[], options: BerthRunOptions = {}): Promise<BerthResult> {
  return runProgram(BERTH_BIN, args, options);
}

/** Any runc-like CLI (berth, raw crun, raw runc) run the way berth() runs berth. */
export async function runProgram(bin: string, args: string[], options: BerthRunOptions = {}): Promise<BerthResult> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-out-'));
  const outFd = openSync(join(dir, 'stdout'), 'w');
  const errFd = openSync(join(dir, 'stderr'), 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(bin, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', outFd, errFd],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
      if (options.input !== undefined) child.stdin!.end(options.input);
    });
    return { code, stdout: readFileSync(join(dir, 'stdout'), 'utf8'), stderr: readFileSync(join(dir, 'stderr'), 'utf8') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** berth with --root ROOT prepended; fails the test with berth's stderr on a non-zero exit. */
export async function berthOk(root: string, args: string[], options: BerthRunOptions = {}): Promise<string> {
  const r = await berth(['--root', root, ...args], options);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
