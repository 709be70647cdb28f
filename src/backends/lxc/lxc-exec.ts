// exec on the lxc backend: lxc-attach runs berth-lxc-init in the container, which execs the
// process with its env, cwd and credentials; --detach leaves lxc-attach itself (which exits with
// the process's status) to the caller's subreaper and names it in the caller's pid file.
// With a terminal (--tty or process.terminal, and --console-socket) lxc-attach runs under
// berth-lxc-console, which connects to the console socket and leaves the connection at fd 7;
// lxc-attach passes it on, and berth-lxc-init (--console 7) opens the terminal in the
// container's devpts and sends its master, as at create. (Giving lxc-attach itself a host pty
// makes it relay to one of its own, but under a pty that is not its caller's the container's
// init was killed at once: LXC 5.0.2's terminal relay, not used.)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, UnsupportedError, type BackendError } from '../../core/errors.js';
import { runTool } from '../../core/exec.js';
import { log } from '../../core/log.js';
import { readProcStat } from '../../core/proc.js';
import type { ExecRequest } from '../backend.js';
import { mkfifo, readFifo, releaseReader } from './lxc-fifo.js';
import { encodeInitArg } from './lxc-mapping.js';
import { INIT_IN_CONTAINER, RT_IN_CONTAINER, type LxcTools } from './lxc-tools.js';

/** The fd on which berth-lxc-console leaves the console socket's connection for the exec's init. */
const CONSOLE_FD = '7';

export interface LxcExecContext {
  tools: LxcTools;
  lxcpath: string;
  dirOf(id: string): string;
  /** The init's pid, or a BackendError naming the verb when the container does not run. */
  requireInit(verb: string, id: string): number;
  failure(verb: string, id: string, why: string, cause?: unknown): BackendError;
  /** The env of the container's process (for an exec given no process file and no env). */
  processEnv(id: string): string[];
}

export function lxcExec({ tools, lxcpath, dirOf, requireInit, failure, processEnv }: LxcExecContext): (req: ExecRequest) => Promise<number> {
  return async function exec(req: ExecRequest): Promise<number> {
    if (req.preserveFds > 0) throw new UnsupportedError('backend lxc cannot pass extra file descriptors (--preserve-fds) to an exec');
    requireInit('exec', req.id);
    let proc: { args: string[]; env: string[]; cwd: string; uid: number; gid: number };
    let terminal = req.tty;
    if (req.processFile) {
      const p = JSON.parse(readFileSync(req.processFile, 'utf8')) as { args?: string[]; env?: string[]; cwd?: string; terminal?: boolean; user?: { uid?: number; gid?: number; additionalGids?: number[] } };
      terminal ||= p.terminal === true;
      if (!Array.isArray(p.args) || p.args.length === 0) throw failure('exec', req.id, `${req.processFile} has no process args`);
      if (p.user?.additionalGids?.length) await log('debug', 'lxc: exec process.user.additionalGids is not honoured: lxc-attach cannot set them', { op: 'exec', id: req.id, backend: 'lxc' });
      proc = { args: p.args, env: p.env ?? [], cwd: req.cwd ?? p.cwd ?? '/', uid: p.user?.uid ?? 0, gid: p.user?.gid ?? 0 };
    } else {
      const env = req.env.length > 0 ? req.env : processEnv(req.id);
      proc = { args: req.args, env, cwd: req.cwd ?? '/', uid: 0, gid: 0 };
    }
    if (terminal && !req.consoleSocket) throw new UnsupportedError('backend lxc gives an exec a terminal only through --console-socket');
    if (req.consoleSocket && !terminal) throw new InvalidArgumentError('--console-socket needs a terminal: --tty, or process.terminal: true in the process file');
    const fifo = join(dirOf(req.id), 'rt', `exec-${process.pid}`);
    const report = req.detach ? ['--report', `${RT_IN_CONTAINER}/exec-${process.pid}`] : [];
    const initArgs = [...report, ...(req.consoleSocket ? ['--console', CONSOLE_FD] : []), '--cwd', proc.cwd, ...proc.env.flatMap((e) => ['--env', e]), '--', ...proc.args];
    const logFile = join(dirOf(req.id), `exec-${process.pid}.log`);
    const onPty = req.consoleSocket ? [tools.console, req.consoleSocket, CONSOLE_FD] : [];
    const argv = [...onPty, tools.attach, '-P', lxcpath, '-n', req.id, '-q', '-o', logFile, '-l', 'ERROR', '--clear-env', '-u', String(proc.uid), '-g', String(proc.gid), '--', INIT_IN_CONTAINER, ...initArgs.map(encodeInitArg)];
    const ownError = (): string | undefined => {
      try {
        const lines = readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => / ERROR /.test(l));
        return lines.length ? lines.map((l) => l.replace(/^.* - [^ ]+:\d+ - /, '')).slice(-1)[0] : undefined;
      } catch {
        return undefined;
      }
    };
    try {
      if (!req.detach) {
        const r = await runTool(argv, { stdio: 'inherit', forwardSignals: true });
        if (r.signal) return 128 + (osConstants.signals[r.signal] ?? 1);
        const own = ownError();
        if (r.exitCode !== 0 && own) throw failure('exec', req.id, own);
        return r.exitCode ?? 1;
      }
      return await detached(argv, req, fifo, ownError);
    } finally {
      rmSync(logFile, { force: true });
    }
  };

  /**
   * exec --detach: lxc-attach runs as an orphan (berth-lxc-detach), so the caller's subreaper
   * (conmon, containerd's shim) reaps it and sees its exit status, the exec'd process's; the
   * caller's pid file names it. berth-lxc-init reports on a FIFO: "ok" and end-of-file once the
   * process runs, "error: why" when it cannot (runc's words, 126/127); lxc-attach ending with
   * nothing written is an attach failure (its log says why).
   */
  async function detached(argv: string[], req: ExecRequest, fifo: string, ownError: () => string | undefined): Promise<number> {
    const started = `${fifo}.pid`;
    await mkfifo(fifo, (why) => failure('exec', req.id, why));
    try {
      const reading = readFifo(fifo);
      reading.catch(() => undefined);
      const r = await runTool([tools.detach, started, ...argv], { stdio: 'inherit' });
      const pid = r.exitCode === 0 ? Number(readFileSync(started, 'utf8').trim()) : NaN;
      if (!Number.isInteger(pid) || pid <= 0) {
        releaseReader(fifo);
        throw failure('exec', req.id, `berth-lxc-detach exited with ${r.exitCode ?? r.signal} (its message is above)`);
      }
      const gone = waitGone(pid);
      const outcome = await Promise.race([reading.then((text) => ({ text })), gone.promise.then(() => ({ gone: true as const }))]);
      gone.cancel();
      let text: string;
      if ('gone' in outcome) {
        // The init may have written before lxc-attach ended: what it wrote is still in the FIFO.
        releaseReader(fifo);
        text = await reading.catch(() => '');
      } else text = outcome.text;
      const lines = text.split('\n');
      const error = lines.find((l) => l.startsWith('error: '));
      if (error) throw failure('exec', req.id, error.slice('error: '.length));
      if (!lines.includes('ok')) throw failure('exec', req.id, ownError() ?? 'lxc-attach ended before the process ran');
      if (req.pidFile) writeFileSync(req.pidFile, String(pid));
      return 0;
    } finally {
      rmSync(fifo, { force: true });
      rmSync(started, { force: true });
    }
  }
}

/** Resolves once PID is gone or a zombie (it is not berth's child: polled). */
function waitGone(pid: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    const check = (): void => {
      const st = readProcStat(pid);
      if (!st || st.state === 'Z') resolve();
      else timer = setTimeout(check, 10);
    };
    check();
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
