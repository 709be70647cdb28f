// What every scenario uses: run a command and time it (spawn → exit, high-resolution clock),
// interleave the baseline and the candidates round by round so that machine noise hits all of
// them alike, warm-up rounds that are not counted, mean and median, and cleanup that runs even
// when a scenario fails or the run is interrupted.
import { spawn } from 'node:child_process';
import type { Measurement } from './scenario.js';

/** A scenario module: bench/run.ts imports it and calls run(); the rest is optional. */
export interface ScenarioModule {
  run(): Promise<import('./scenario.js').ScenarioResult>;
  /** One paragraph for docs/benchmarks.md: what is timed, against what. */
  description?: string;
  /** A goal every candidate is held to. */
  goal?: Goal;
}

/** "candidate/baseline ≤ maxRatio", judged on the median ratio (the mean is shown too). */
export interface Goal {
  maxRatio: number;
  text: string;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default true: a non-zero exit (or a signal) throws, with the command's stderr. */
  check?: boolean;
  timeoutMs?: number;
}

export interface CommandResult {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs argv once: stdin and stdout are /dev/null, stderr is kept for the error message. The
 * clock runs from just before spawn() to the child's exit (not to the close of its pipes: a
 * container's init may inherit stderr and hold it open long after the runtime has exited).
 */
export function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('empty command line'));
  const done = new Promise<CommandResult>((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      // Let what is already in the pipe arrive, then let go of it (a container may keep it open).
      setImmediate(() => {
        child.stderr!.destroy();
        if ((options.check ?? true) && code !== 0) {
          const why = stderr.trim().split('\n').slice(-3).join(' | ') || 'no stderr';
          reject(new Error(`${argv.join(' ')} exited ${code ?? signal}: ${why}`));
        } else {
          resolve({ ms, code, signal, stderr });
        }
      });
    });
  });
  return track(done);
}

/** Remembers a promise until it settles, so that an interrupted run can wait for it. */
function track<T>(p: Promise<T>): Promise<T> {
  inFlight.add(p);
  const forget = (): void => void inFlight.delete(p);
  p.then(forget, forget);
  return p;
}

/** One thing being timed. run(i) is the timed part; prepare/finish(i) are around it, untimed. */
export interface Subject {
  name: string;
  prepare?(i: number): Promise<void>;
  run(i: number): Promise<void>;
  finish?(i: number): Promise<void>;
}

/** A subject that is one command, run as is every time. */
export function commandSubject(name: string, argv: readonly string[], options: CommandOptions = {}): Subject {
  return { name, run: async () => void (await runCommand(argv, options)) };
}

/** A subject that is several commands in a row, timed as a whole; argv may depend on i. */
export function sequenceSubject(name: string, steps: (i: number) => readonly (readonly string[])[], options: CommandOptions = {}): Subject {
  return {
    name,
    run: async (i) => {
      for (const argv of steps(i)) await runCommand(argv, options);
    },
  };
}

export interface CompareOptions {
  iterations: number;
  /** Uncounted rounds first (page cache, dentry cache, JIT of the parent). */
  warmup: number;
  /** Called after each counted round, e.g. for progress output. */
  onRound?: (round: number) => void;
}

export interface Comparison {
  baseline: Measurement;
  candidates: Measurement[];
  /** Raw samples in ms, by subject name. */
  samples: Map<string, number[]>;
}

/**
 * Times the baseline and the candidates in rounds: each round runs every subject once, the
 * starting subject rotating from round to round, so that no subject always runs first (or
 * always right after another) and a burst of noise is shared rather than hitting one subject.
 */
export async function compare(baseline: Subject, candidates: Subject[], options: CompareOptions): Promise<Comparison> {
  const subjects = [baseline, ...candidates];
  const names = new Set(subjects.map((s) => s.name));
  if (names.size !== subjects.length) throw new Error('subject names must be distinct');
  const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  let seq = 0;
  const total = options.warmup + options.iterations;
  for (let round = 0; round < total; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const subject = subjects[(round + k) % subjects.length]!;
      const i = seq++;
      // Interrupted: start nothing more; closeAllScopes() cleans up and the process exits.
      if (stopping) await new Promise(() => {});
      let ms = 0;
      await track(
        (async () => {
          await subject.prepare?.(i);
          const t0 = process.hrtime.bigint();
          await subject.run(i);
          ms = Number(process.hrtime.bigint() - t0) / 1e6;
          await subject.finish?.(i);
        })(),
      );
      if (round >= options.warmup) samples.get(subject.name)!.push(ms);
    }
    if (round >= options.warmup) options.onRound?.(round - options.warmup + 1);
  }
  const measure = (s: Subject): Measurement => summarize(s.name, samples.get(s.name)!);
  return { baseline: measure(baseline), candidates: candidates.map(measure), samples };
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Quantile by linear interpolation between closest ranks (q = 0.5: the median). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export function summarize(name: string, xs: readonly number[]): Measurement {
  return { name, iterations: xs.length, meanMs: mean(xs), medianMs: median(xs) };
}

/** "min 81.2, p25–p75 83.0–86.9, max 120.4 ms" — for a scenario's notes. */
export function spread(xs: readonly number[]): string {
  const f = (n: number): string => n.toFixed(1);
  return `min ${f(Math.min(...xs))}, p25–p75 ${f(quantile(xs, 0.25))}–${f(quantile(xs, 0.75))}, max ${f(Math.max(...xs))} ms`;
}

/** One line per subject with its spread, for notes. */
export function spreadNotes(c: Comparison): string {
  return [...c.samples].map(([name, xs]) => `${name}: ${spread(xs)}`).join('\n');
}

type CleanupFn = () => unknown;
/** Scopes not yet closed, or still closing. */
const liveScopes = new Set<CleanupScope>();
/** Commands and timed iterations running now; once `stopping`, compare() starts no more. */
const inFlight = new Set<Promise<unknown>>();
let stopping = false;

/**
 * Undo actions run in reverse order by close(), each attempted even if an earlier one fails.
 * Scopes still open are also closed by closeAllScopes(), which bench/run.ts calls on
 * SIGINT/SIGTERM.
 */
export class CleanupScope {
  private readonly fns: Array<{ what: string; fn: CleanupFn }> = [];
  private closing: Promise<string[]> | undefined;
  constructor() {
    liveScopes.add(this);
  }

  add(what: string, fn: CleanupFn): void {
    this.fns.push({ what, fn });
  }

  /** Resolves with the failures (what + message); never rejects. Calling it again joins the first call. */
  close(): Promise<string[]> {
    this.closing ??= (async () => {
      const failures: string[] = [];
      while (this.fns.length > 0) {
        const { what, fn } = this.fns.pop()!;
        try {
          await fn();
        } catch (err) {
          failures.push(`${what}: ${(err as Error).message}`);
        }
      }
      liveScopes.delete(this);
      return failures;
    })();
    return this.closing;
  }
}

/**
 * For an interrupted run: compare() starts no more iterations; the commands and iterations
 * running now are let finish (a create cut short would leave a container behind the cleanup),
 * then every scope still open is closed.
 */
export async function closeAllScopes(timeoutMs = 30_000): Promise<string[]> {
  stopping = true;
  const timeout = new Promise((r) => setTimeout(r, timeoutMs).unref());
  await Promise.race([Promise.allSettled([...inFlight]), timeout]);
  const failures: string[] = [];
  for (const scope of [...liveScopes]) failures.push(...(await scope.close()));
  return failures;
}
