// exec on the lxc backend: lxc-attach runs berth-lxc-init in the container, which execs the
// process with its env, cwd and credentials; --detach leaves lxc-attach itself (which exits with
// the process's status) to the caller's subreaper and names it in the caller's pid file.
import { chmodSync, closeSync, constants as fsConstants, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { UnsupportedError, type BackendError } from '../../core/errors.js';
import { runTool } from '../../core/exec.js';
import { log } from '../../core/log.js';
import { readProcStat } from '../../core/proc.js';
import type { ExecRequest } from '../backend.js';
import { encodeInitArg } from './lxc-mapping.js';
import { INIT_IN_CONTAINER, RT_IN_CONTAINER, type LxcTools } from './lxc-tools.js';

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
    if (req.tty || req.consoleSocket) throw new UnsupportedError('backend lxc cannot give an exec a terminal (--tty, --console-socket)');
    if (req.preserveFds > 0) throw new UnsupportedError('backend lxc cannot pass extra file descriptors (--preserve-fds) to an exec');
    requireInit('exec', req.id);
    let proc: { args: string[]; env: string[]; cwd: string; uid: number; gid: number };
    if (req.processFile) {
      const p = JSON.parse(readFileSync(req.processFile, 'utf8')) as { args?: string[]; env?: string[]; cwd?: string; user?: { uid?: number; gid?: number; additionalGids?: number[] } };
      if (!Array.isArray(p.args) || p.args.length === 0) throw failure('exec', req.id, `${req.processFile} has no process args`);
      if (p.user?.additionalGids?.length) await log('debug', 'lxc: exec process.user.additionalGids is not honoured: lxc-attach cannot set them', { op: 'exec', id: req.id, backend: 'lxc' });
      proc = { args: p.args, env: p.env ?? [], cwd: req.cwd ?? p.cwd ?? '/', uid: p.user?.uid ?? 0, gid: p.user?.gid ?? 0 };
    } else {
      const env = req.env.length > 0 ? req.env : processEnv(req.id);
      proc = { args: req.args, env, cwd: req.cwd ?? '/', uid: 0, gid: 0 };
    }
    const fifo = join(dirOf(req.id), 'rt', `exec-${process.pid}`);
    const report = req.detach ? ['--report', `${RT_IN_CONTAINER}/exec-${process.pid}`] : [];
    const initArgs = [...report, '--cwd', proc.cwd, ...proc.env.flatMap((e) => ['--env', e]), '--', ...proc.args];
    const logFile = join(dirOf(req.id), `exec-${process.pid}.log`);
    const argv = [tools.attach, '-P', lxcpath, '-n', req.id, '-q', '-o', logFile, '-l', 'ERROR', '--clear-env', '-u', String(proc.uid), '-g', String(proc.gid), '--', INIT_IN_CONTAINER, ...initArgs.map(encodeInitArg)];
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
    const made = await runTool(['mkfifo', '-m', '0666', fifo]);
    if (made.exitCode !== 0) throw failure('exec', req.id, `mkfifo ${fifo}: ${made.stderr.trim()}`);
    try {
      chmodSync(fifo, 0o666); // the process may run as any uid
      const reading = openAsync(fifo, 'r').then(async (fh) => {
        try {
          return (await fh.readFile('utf8')).trim();
        } finally {
          await fh.close();
        }
      });
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

/** Unblocks a reader waiting in open() on a FIFO nobody will write to. */
function releaseReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW));
  } catch {
    // no reader waiting
  }
}
