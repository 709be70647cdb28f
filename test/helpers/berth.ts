// Runs the real berth CLI as a user or containerd would.
import { spawn } from 'node:child_process';
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

export function berth(args: string[], options: BerthRunOptions = {}): Promise<BerthResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BERTH_BIN, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** berth with --root ROOT prepended; fails the test with berth's stderr on a non-zero exit. */
export async function berthOk(root: string, args: string[], options: BerthRunOptions = {}): Promise<string> {
  const r = await berth(['--root', root, ...args], options);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
