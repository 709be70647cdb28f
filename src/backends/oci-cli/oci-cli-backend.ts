// crun and runc share one command line (runc's), so one wrapper drives both. Each keeps its
// state in <berth root>/<tool name> (crun-cli and crun-abi share <root>/crun), so containers
// of crun and runc never collide.
// The runtime's errors are read from its JSON log (--log), because its stderr belongs to the
// container whenever the container inherits it (create, run, exec). The log is written outside
// the state root (call-logs.ts): verbs that change nothing there (kill, exec, ps, state) work on
// a read-only root.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileSystemError } from '../../core/atomic-file.js';
import { CallLogs } from './call-logs.js';
import { join } from 'node:path';
import { BackendError, ToolError } from '../../core/errors.js';
import { runTool, type ToolResult } from '../../core/exec.js';
import type { ParsedSignal } from '../../core/signals.js';
import type { Backend, BackendCapabilities, BackendSettings, CreateRequest, ExecRequest } from '../backend.js';
import { findRuntimeBinary } from './binary.js';
import { inClientWords } from './client-wording.js';
import { runcInvocation } from './runc-bundle.js';
import { withoutHooks, deferredOf } from '../deferred-hooks.js';
import { DeferredStartContainer } from './start-container-hooks.js';
import { DeferredPoststart } from './runc-poststart.js';

const CAPABILITIES: BackendCapabilities = { exec: true, pause: true, update: true, ps: true, consoleSocket: true, stdio: true };
/** crun 1.8 accepts ociVersion 1.0.x and 1.1.x only ("unknown version specified"). */
export const CRUN_OCI_VERSION_MAX = '1.1.0';

/** Phrases crun and runc use for an id they do not know. */
const NOT_FOUND = /does not exist|not found|no such file/i;

/**
 * `tool` is the binary (crun, runc), `backendName` the name berth knows the backend by
 * (crun-cli, runc). Messages name the tool, as the tool's own messages would.
 */
export async function createOciCliBackend(tool: 'crun' | 'runc', backendName: string, settings: BackendSettings): Promise<Backend> {
  const name = tool;
  const binary = findRuntimeBinary(tool, settings.binaryPath, process.env, tool === 'crun' ? settings.crunBinaryKey : undefined);
  const stateDir = join(settings.root, tool);
  const logs = new CallLogs([stateDir]);
  /** Made by the verbs that make containers; the others find it there or find nothing. */
  const ensureStateDir = (): void => {
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fileSystemError(err, stateDir);
    }
  };

  interface Call {
    argv: string[];
    result: ToolResult;
    /** The runtime's last error line in its JSON log, if it wrote one. */
    logError: string | undefined;
    /** logError, else the last line of its (captured) stderr. */
    errorMessage: string;
  }

  async function call(args: string[], mode: { inherit?: boolean; stdioFds?: readonly [number, number, number]; input?: string; extraFds?: number; forwardSignals?: boolean; prefix?: string[] } = {}): Promise<Call> {
    const logFile = logs.next();
    const argv = [...(mode.prefix ?? []), binary, '--root', stateDir, ...(logFile ? ['--log', logFile, '--log-format', 'json'] : [])];
    if (settings.debug) argv.push('--debug');
    if (settings.systemdCgroup) argv.push('--systemd-cgroup');
    argv.push(...args);
    try {
      const result = await runTool(argv, {
        stdio: mode.inherit ? 'inherit' : 'capture',
        input: mode.input,
        extraFds: mode.extraFds,
        ...(mode.stdioFds ? { stdioFds: mode.stdioFds } : {}),
        forwardSignals: mode.forwardSignals,
      });
      const logError = logFile ? lastError(logFile) : undefined;
      return { argv, result, logError, errorMessage: logError ?? lastMessage(result.stderr) ?? '' };
    } finally {
      if (logFile) rmSync(logFile, { force: true });
    }
  }

  function fail(verb: string, id: string, c: Call): never {
    const why = inClientWords(c.errorMessage) || `exited with ${c.result.exitCode ?? c.result.signal}`;
    throw new BackendError(`${name} ${verb} of container "${id}" failed: ${why}`, {
      cause: new ToolError(`${binary} exit ${c.result.exitCode ?? c.result.signal}: ${c.result.stderr.trim() || why}`, {
        exitCode: c.result.exitCode,
        // create and run hand the tool berth's stderr: its words are then only in its JSON log.
        stderr: c.result.stderr !== '' ? c.result.stderr : (c.logError ?? ''),
        argv: c.argv,
      }),
    });
  }

  async function simple(verb: string, id: string, extra: string[] = []): Promise<void> {
    const c = await call([verb, ...extra, id]);
    if (c.result.exitCode !== 0) fail(verb, id, c);
  }

  // Hooks the engine runs at the wrong moment, run by berth instead (create only; see each module).
  const poststart = tool === 'runc' ? new DeferredPoststart(stateDir) : undefined;
  const startHooks = new DeferredStartContainer(stateDir, tool, () => binary, backendName);

  /**
   * The argv for create and run, and what goes before it (runc-bundle.ts). `deferHooks`: create
   * only; the hooks taken out are saved for start (runc-poststart.ts, crun-start-hooks.ts).
   */
  function createArgs(req: CreateRequest, deferHooks = false): { args: string[]; prefix: string[] } {
    // crun reads the backend config by --config and keeps the user's bundle as its bundle;
    // runc has no such flag: the config is bind-mounted over the bundle's for it (runc-bundle.ts).
    const forRunc = (config: Record<string, unknown>): Record<string, unknown> => {
      if (!deferHooks || !poststart) return config;
      const split = withoutHooks(startHooks.take(req.id, req.bundle, config), 'poststart');
      if (split.hooks.length > 0) poststart.save(req.id, deferredOf(config, req.bundle, split.hooks));
      return split.config;
    };
    const runc = tool === 'runc' ? runcInvocation(req, forRunc) : undefined;
    const crunConfig = deferHooks && tool === 'crun' ? startHooks.prepare(req.id, req.bundle, req.config) : req.config;
    const args = runc ? [`--bundle=${runc.bundle}`] : [`--bundle=${req.bundle}`, `--config=${crunConfig}`];
    args.push(`--pid-file=${req.pidFile}`);
    if (req.consoleSocket) args.push(`--console-socket=${req.consoleSocket}`);
    if (req.noPivot) args.push('--no-pivot');
    if (req.noNewKeyring) args.push('--no-new-keyring');
    if (req.preserveFds > 0) args.push(`--preserve-fds=${req.preserveFds}`);
    return { args, prefix: runc?.prefix ?? [] };
  }

  return {
    name: backendName,
    capabilities: tool === 'crun' ? { ...CAPABILITIES, ociVersionMax: CRUN_OCI_VERSION_MAX } : CAPABILITIES,
    async create(req) {
      ensureStateDir();
      poststart?.forget(req.id);
      const { args, prefix } = createArgs(req, true);
      const stdioFds = req.stdio ? ([req.stdio.stdin, req.stdio.stdout, req.stdio.stderr] as const) : undefined;
      const c = await call(['create', ...args, req.id], { inherit: true, extraFds: req.preserveFds, prefix, ...(stdioFds ? { stdioFds } : {}) });
      if (c.result.exitCode !== 0) {
        poststart?.forget(req.id);
        startHooks.forget(req.id);
        fail('create', req.id, c);
      }
    },
    async start(id) {
      await startHooks.runBeforeStart(id);
      await simple('start', id);
      startHooks.forget(id);
      await poststart?.run(id, async () => {
        const c = await call(['state', id]);
        return c.result.exitCode === 0 ? (JSON.parse(c.result.stdout) as { pid?: number }).pid : undefined;
      });
    },
    async runForeground(req) {
      ensureStateDir();
      const { args, prefix } = createArgs(req);
      const c = await call(['run', ...args, req.id], { inherit: true, extraFds: req.preserveFds, forwardSignals: true, prefix });
      // The runtime exits with the container's code; it reports its own failures in the log.
      if (c.result.signal) return 128 + signalNumber(c.result.signal);
      if (isOwnFailure(c)) fail('run', req.id, c);
      return c.result.exitCode ?? 1;
    },
    async kill(id, signal: ParsedSignal, all) {
      const c = await call(['kill', ...(all ? ['--all'] : []), id, String(signal.number)]);
      if (c.result.exitCode !== 0) fail('kill', id, c);
    },
    async delete(id, force) {
      const c = await call(['delete', ...(force ? ['--force'] : []), id]);
      if (c.result.exitCode !== 0 && !NOT_FOUND.test(c.errorMessage)) fail('delete', id, c);
      poststart?.forget(id);
      startHooks.forget(id);
    },
    pause: (id) => simple('pause', id),
    resume: (id) => simple('resume', id),
    async exec(req: ExecRequest) {
      const args: string[] = [];
      if (req.processFile) args.push(`--process=${req.processFile}`);
      if (req.detach) args.push('--detach');
      if (req.pidFile) args.push(`--pid-file=${req.pidFile}`);
      if (req.tty) args.push('--tty');
      if (req.consoleSocket) args.push(`--console-socket=${req.consoleSocket}`);
      for (const e of req.env) args.push(`--env=${e}`);
      if (req.cwd) args.push(`--cwd=${req.cwd}`);
      if (req.preserveFds > 0) args.push(`--preserve-fds=${req.preserveFds}`);
      const c = await call(['exec', ...args, req.id, ...req.args], {
        inherit: true,
        ...(req.stdio ? { stdioFds: [req.stdio.stdin, req.stdio.stdout, req.stdio.stderr] as const } : {}),
        extraFds: req.preserveFds,
        forwardSignals: !req.detach,
      });
      if (c.result.signal) return 128 + signalNumber(c.result.signal);
      if (req.detach || isOwnFailure(c)) {
        if (c.result.exitCode !== 0) fail('exec', req.id, c);
        return 0;
      }
      return c.result.exitCode ?? 1;
    },
    async ps(id) {
      const c = await call(['ps', '--format=json', id]);
      if (c.result.exitCode !== 0) fail('ps', id, c);
      const pids: unknown = JSON.parse(c.result.stdout || '[]');
      if (!Array.isArray(pids) || !pids.every((p) => Number.isInteger(p))) {
        throw new BackendError(`${name} ps of container "${id}" printed something that is not a list of pids`);
      }
      return pids as number[];
    },
    async update(id, resources) {
      // Beside the call logs, not in the state root: update changes nothing there.
      const file = logs.next('.json') ?? join(stateDir, `.resources-${process.pid}.json`);
      writeFileSync(file, resources, { mode: 0o600 });
      try {
        await simple('update', id, [`--resources=${file}`]);
      } finally {
        rmSync(file, { force: true });
      }
    },
    async version() {
      const c = await call(['--version']);
      const first = c.result.stdout.split('\n')[0]?.trim() || `exit ${c.result.exitCode}`;
      return `${first} (${binary})`;
    },
    async features() {
      const c = await call(['features']);
      if (c.result.exitCode !== 0) return undefined;
      return JSON.parse(c.result.stdout) as Record<string, unknown>;
    },
  };
}

/**
 * In the foreground the runtime's exit code is the container's, so an error line in its log
 * is what tells a failure of the runtime itself from a container that exited non-zero.
 */
function isOwnFailure(c: { logError: string | undefined; result: ToolResult }): boolean {
  return c.result.exitCode !== 0 && c.logError !== undefined;
}

function signalNumber(sig: NodeJS.Signals): number {
  return constants.signals[sig] ?? 1;
}

/**
 * The last error line of the runtime's log. runc's child (nsexec) logs the cause as "fatal"
 * lines before runc's own error, which only says the child died ("can't get final child's PID
 * from pipe: EOF"): the first of those is added, so the reason reaches the user.
 */
function lastError(logFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let msg: string | undefined;
  let firstFatal: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.includes('"error"') && !line.includes('"fatal"')) continue;
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if ((rec.level === 'error' || rec.level === 'fatal') && rec.msg) msg = rec.msg;
      if (rec.level === 'fatal' && rec.msg) firstFatal ??= rec.msg;
    } catch {
      // a torn or foreign line: ignore
    }
  }
  return firstFatal !== undefined && firstFatal !== msg ? `${msg}; first error: ${firstFatal}` : msg;
}

/**
 * The last message on a runtime's stderr. crun breaks its own lines before the errno text
 * ("open log file /x\n: Read-only file system"): a line that starts with ":" is joined to the
 * one before, so the message keeps the path it is about.
 */
export function lastMessage(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  let msg = lines.pop();
  while (msg !== undefined && msg.startsWith(':') && lines.length > 0) msg = `${lines.pop()}${msg}`;
  return msg || undefined;
}
