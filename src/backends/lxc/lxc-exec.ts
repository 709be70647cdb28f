// exec on the lxc backend: lxc-attach runs berth-lxc-init in the container, which execs the
// process with its env, cwd and credentials; --detach finds the attached process's pid (a
// descendant of lxc-attach in the container's pid namespace) for the caller's pid file.
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../core/clock.js';
import { UnsupportedError, type BackendError } from '../../core/errors.js';
import { runTool, startTool, type StartedTool } from '../../core/exec.js';
import { log } from '../../core/log.js';
import { descendants } from '../../core/proc.js';
import type { ExecRequest } from '../backend.js';
import { encodeInitArg } from './lxc-mapping.js';
import { INIT_IN_CONTAINER, type LxcTools } from './lxc-tools.js';

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
    const initPid = requireInit('exec', req.id);
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
    const initArgs = ['--cwd', proc.cwd, ...proc.env.flatMap((e) => ['--env', e]), '--', ...proc.args];
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
      const attach = await startTool(argv);
      const pid = await findAttached(attach, initPid);
      if (pid === undefined) {
        const r = await Promise.race([attach.exited, sleep(100).then(() => undefined)]);
        throw failure('exec', req.id, ownError() ?? `lxc-attach exited with ${r?.exitCode ?? 'no process'}`);
      }
      if (req.pidFile) writeFileSync(req.pidFile, String(pid));
      attach.unref();
      return 0;
    } finally {
      rmSync(logFile, { force: true });
    }
  };
}

/** The attached process: a descendant of lxc-attach inside the container's pid namespace. */
async function findAttached(attach: StartedTool, initPid: number): Promise<number | undefined> {
  const nsOf = (pid: number): number | undefined => {
    try {
      return pidNamespace(pid);
    } catch {
      return undefined;
    }
  };
  const containerNs = nsOf(initPid);
  let exited = false;
  void attach.exited.then(() => (exited = true));
  const deadline = Date.now() + 10_000;
  while (!exited && Date.now() < deadline) {
    for (const pid of descendants(attach.pid)) if (nsOf(pid) === containerNs && !isAttachHelper(pid)) return pid;
    await sleep(5);
  }
  return undefined;
}

/** The pid namespace of a process, by its inode. */
function pidNamespace(pid: number): number {
  return statSync(`/proc/${pid}/ns/pid`).ino;
}

/** lxc-attach's own intermediate processes carry its name until the payload execs. */
function isAttachHelper(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'lxc-attach';
  } catch {
    return true;
  }
}

