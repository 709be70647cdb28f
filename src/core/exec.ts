// The one way berth runs external tools: argv arrays (never a shell string), LC_ALL=C so
// messages are parseable, stderr kept for the error.
import { spawn, type StdioOptions } from 'node:child_process';
import { basename } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { ToolError } from './errors.js';
import { inSpan, tracingActive } from './tracing.js';

export interface ToolResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when `timeoutMs` ran out and the tool was signalled. */
  timedOut?: boolean;
}

export interface RunToolOptions {
  /** Written to the tool's stdin (capture mode only). */
  input?: string;
  /**
   * `capture` pipes stdout/stderr into the result. `inherit` hands the tool berth's own stdio
   * plus `extraFds` (used where the tool's children must keep berth's stdio, e.g. a
   * container's init process).
   */
  stdio?: 'capture' | 'inherit';
  extraFds?: number;
  /** In `inherit` mode: these open fds as the tool's 0, 1 and 2 instead of berth's own (a shim's FIFOs). */
  stdioFds?: readonly [number, number, number];
  env?: NodeJS.ProcessEnv;
  /** Signals berth receives while waiting are passed on to the tool. */
  forwardSignals?: boolean;
  /**
   * The tool is killed when berth dies (setpriv --pdeathsig KILL): for work that is berth's
   * alone (a copy), which must not run on into what the next verb repairs.
   */
  diesWithBerth?: boolean;
  /** The tool's argv[0], when it is not its path (a multi-call binary: an OCI hook's args[0]). */
  argv0?: string;
  /** TERM after this long, KILL a second later (an OCI hook's timeout). */
  timeoutMs?: number;
}

/** util-linux's setpriv, on every Debian: sets the parent-death signal, then execs the tool. */
const DIE_WITH_PARENT = ['setpriv', '--pdeathsig', 'KILL', '--'] as const;

/** runTool's shape, for code that takes a fake in tests. */
export type ToolRunner = (argv: readonly string[], options?: RunToolOptions) => Promise<ToolResult>;

/**
 * Runs argv[0] with the rest as arguments; resolves with the outcome, whatever the exit code.
 * With tracing on, each call is a span `exec <tool>` (argv redacted, exit code).
 */
export function runTool(argv: readonly string[], options: RunToolOptions = {}): Promise<ToolResult> {
  if (!tracingActive()) return spawnTool(argv, options);
  const tool = basename(argv[0] ?? '');
  // Span attributes are redacted by the tracer (telemetry/tracing.ts), as log fields are by the logger.
  return inSpan(`exec ${tool}`, { 'process.executable.name': tool, 'process.command_args': argv }, async (span) => {
    const r = await spawnTool(argv, options);
    span.setAttributes({ 'process.exit.code': r.exitCode ?? undefined, 'process.exit.signal': r.signal ?? undefined });
    return r;
  });
}

function spawnTool(argv: readonly string[], options: RunToolOptions): Promise<ToolResult> {
  const [file, ...args] = options.diesWithBerth && argv.length > 0 ? [...DIE_WITH_PARENT, ...argv] : argv;
  if (!file) throw new ToolError('empty command line', { exitCode: null, stderr: '', argv });
  const inherit = options.stdio === 'inherit';
  let stdio: StdioOptions;
  if (inherit) {
    const fds: number[] = options.stdioFds ? [...options.stdioFds] : [0, 1, 2];
    for (let i = 0; i < (options.extraFds ?? 0); i++) fds.push(3 + i);
    stdio = fds;
  } else {
    stdio = [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  }
  return new Promise((resolve, reject) => {
    // With a timeout the tool leads a process group of its own, and the signals go to the whole
    // group (as coreutils' timeout does): a shell's children must not hold its pipes open.
    const timed = options.timeoutMs !== undefined;
    const child = spawn(file, args, { stdio, env: { ...(options.env ?? process.env), LC_ALL: 'C' }, detached: timed, ...(options.argv0 !== undefined ? { argv0: options.argv0 } : {}) });
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // the group is gone
      }
    };
    if (timed) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          signalGroup('SIGTERM');
          timers.push(setTimeout(() => signalGroup('SIGKILL'), 1_000));
        }, options.timeoutMs),
      );
    }
    const clearTimers = (): void => timers.forEach((t) => clearTimeout(t));
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const forwarded: Array<[NodeJS.Signals, () => void]> = [];
    if (options.forwardSignals) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]) {
        const handler = (): void => void child.kill(sig);
        process.on(sig, handler);
        forwarded.push([sig, handler]);
      }
    }
    const unforward = (): void => forwarded.forEach(([sig, h]) => process.off(sig, h));
    child.on('error', (err) => {
      unforward();
      clearTimers();
      reject(new ToolError(`cannot run ${file}: ${err.message}`, { exitCode: null, stderr, argv, cause: err }));
    });
    // 'close' waits for the pipes; in inherit mode there are none, and a container holding
    // berth's stdio must not keep berth waiting.
    child.on(inherit ? 'exit' : 'close', (exitCode, signal) => {
      unforward();
      clearTimers();
      resolve({ exitCode, signal, stdout, stderr, ...(timedOut ? { timedOut } : {}) });
    });
    if (child.stdin && options.input !== undefined) {
      // A tool may exit without reading its input (an OCI hook that ignores the state): EPIPE
      // then is its business, not an uncaught error of berth's.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/**
 * A tool as a stream stage (e.g. `zstd -d -c`): what is written goes to its stdin, its stdout
 * comes out. The output ends only once the tool exited 0; otherwise the stream fails with a
 * ToolError carrying the tool's stderr. Same rules as runTool: argv only, LC_ALL=C.
 */
export function toolStream(argv: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Duplex {
  const [file, ...args] = argv;
  if (!file) throw new ToolError('empty command line', { exitCode: null, stderr: '' });
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...(options.env ?? process.env), LC_ALL: 'C' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
  const output = new PassThrough();
  child.stdout.pipe(output, { end: false });
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    output.destroy(err);
  };
  child.on('error', (err) => fail(new ToolError(`cannot run ${file}: ${err.message}`, { exitCode: null, stderr, cause: err })));
  child.on('close', (exitCode, signal) => {
    if (exitCode === 0) output.end();
    else fail(new ToolError(`${file} exited ${exitCode ?? signal}: ${stderr.trim() || 'no message'}`, { exitCode, stderr }));
  });
  // A consumer that gives up early must not leave the tool running.
  const duplex = Duplex.from({ writable: child.stdin, readable: output });
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stdin.on('error', () => undefined); // EPIPE when the tool died: its exit status says why
  return duplex;
}

export interface StartedTool {
  pid: number;
  /** Settles when the tool exits (never rejects: a tool that cannot start has exitCode null). */
  exited: Promise<ToolResult & { error?: Error }>;
  /** Lets berth exit while the tool runs on (it keeps the stdio it was given). */
  unref(): void;
}

/**
 * Starts a long-lived tool (a container's monitor) in a session of its own, with berth's stdio
 * (plus `extraFds`) and no pipes, and returns at once. For tools that must outlive berth; every
 * tool berth waits for goes through runTool.
 */
export function startTool(argv: readonly string[], options: { extraFds?: number; env?: NodeJS.ProcessEnv } = {}): Promise<StartedTool> {
  const [file, ...args] = argv;
  if (!file) throw new ToolError('empty command line', { exitCode: null, stderr: '' });
  const fds: number[] = [0, 1, 2];
  for (let i = 0; i < (options.extraFds ?? 0); i++) fds.push(3 + i);
  const child = spawn(file, args, { stdio: fds, detached: true, env: { ...(options.env ?? process.env), LC_ALL: 'C' } });
  const exited = new Promise<ToolResult & { error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ exitCode: null, signal: null, stdout: '', stderr: '', error }));
    child.on('exit', (exitCode, signal) => resolve({ exitCode, signal, stdout: '', stderr: '' }));
  });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve({ pid: child.pid!, exited, unref: () => child.unref() }));
    child.once('error', (err) => reject(new ToolError(`cannot run ${file}: ${err.message}`, { exitCode: null, stderr: '', cause: err })));
  });
}
