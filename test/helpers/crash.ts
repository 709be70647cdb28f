// The crash-injection harness (issue 14): a berth verb is started as a user would start it, and
// SIGKILLed after a delay (the berth process alone, or its whole process group, as a terminal's
// ^C-then-kill or a systemd stop would); then the next verbs must find the truth: `list` and
// `state` answer, `delete --force` removes everything that was made, and the image cache works.
// Each kill ends as one outcome: clean, or stuck (a later verb fails or something is left
// behind) or lost (data that was there is gone or wrong).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_BIN } from './paths.js';

export type KillMode = 'pid' | 'group';
export type Outcome = 'clean' | 'stuck' | 'lost';

export interface KillResult {
  scenario: string;
  delayMs: number;
  mode: KillMode;
  /** The verb's exit: a number when it finished before the kill, 'killed' otherwise. */
  verbExit: number | 'killed';
  outcome: Outcome;
  problems: string[];
}

/**
 * Starts berth `args` in a process group of its own and SIGKILLs it (or the group) `delayMs`
 * after it started; resolves once it has exited.
 */
export async function killedAfter(args: string[], delayMs: number, mode: KillMode, env: NodeJS.ProcessEnv = process.env): Promise<number | 'killed'> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-crash-out-'));
  const out = openSync(join(dir, 'out'), 'w');
  try {
    const child = spawn(BERTH_BIN, args, { detached: true, stdio: ['ignore', out, out], env });
    const exited = new Promise<number | 'killed'>((resolve) => child.once('exit', (code, signal) => resolve(signal === 'SIGKILL' ? 'killed' : (code ?? 'killed'))));
    const timer = setTimeout(() => {
      try {
        if (mode === 'group') process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // it had exited
      }
    }, delayMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  } finally {
    closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Live processes whose command line is exactly `argv` (the container programs a scenario runs). */
export function livePidsOf(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8') !== want) continue;
      if (readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '')[0] === 'Z') continue;
      pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Mount points under `dir` (a test's temp dir): none may outlive the container they were for. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)));
}

/** Entries of a directory, [] when it does not exist. */
export function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** How many of each outcome, per scenario and in all, as a markdown table. */
export function crashTable(results: readonly KillResult[]): string {
  const names = [...new Set(results.map((r) => r.scenario))];
  const row = (name: string, rs: readonly KillResult[]): string => {
    const n = (o: Outcome): number => rs.filter((r) => r.outcome === o).length;
    const finished = rs.filter((r) => r.verbExit !== 'killed').length;
    return `| ${name} | ${rs.length} | ${finished} | ${n('clean')} | ${n('stuck')} | ${n('lost')} |`;
  };
  return [
    '| verb killed | kills | finished first | clean | stuck | lost |',
    '| --- | --- | --- | --- | --- | --- |',
    ...names.map((name) => row(name, results.filter((r) => r.scenario === name))),
    row('**all**', results),
  ].join('\n');
}
