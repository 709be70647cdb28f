// `containerd-shim-berth-v2 start`: hands containerd the address of the engine for its
// (address, namespace), starting one only when none listens there. Runs in the bundle
// directory; prints exactly `unix://<socket>` and writes it to ./address. The engine runs in a
// session of its own with its stdio on a log file: nothing keeps containerd's pipes open.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { validateContainerId } from '../core/ids.js';
import { lockDirectory } from '../core/lock.js';
import type { ShimArgs } from './args.js';
import { shimPaths } from './paths.js';

/** How long a new engine gets to listen. */
const ENGINE_READY_MS = 10_000;

/** Whether something accepts connections on the unix socket. */
export function listening(path: string): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

/** The engine's command line: the same launcher without an action (serve), with -socket. */
function engineArgv(args: ShimArgs, socket: string): string[] {
  const launcher = resolve(process.argv[1] ?? '');
  const argv = [launcher, '-namespace', args.namespace, '-address', args.address, '-publish-binary', args.publishBinary, '-id', args.id, '-socket', socket];
  if (args.debug) argv.push('-debug');
  return argv;
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

async function launchEngine(args: ShimArgs, socket: string, logPath: string): Promise<void> {
  rmSync(socket, { force: true }); // a dead engine's socket
  const logFd = openSync(logPath, 'a', 0o600);
  let exited: string | undefined;
  try {
    const child = spawn(process.execPath, engineArgv(args, socket), {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: '/',
      env: { ...process.env, TTRPC_ADDRESS: args.ttrpcAddress },
    });
    child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
  } finally {
    closeSync(logFd);
  }
  const deadline = Date.now() + ENGINE_READY_MS;
  for (let delay = 2; ; delay = Math.min(delay * 2, 25)) {
    if (await listening(socket)) return;
    if (exited !== undefined) throw new Error(`the berth shim engine ${exited}: ${logTail(logPath) || `see ${logPath}`}`);
    if (Date.now() > deadline) throw new Error(`the berth shim engine did not listen on ${socket} within ${ENGINE_READY_MS / 1000} s; see ${logPath}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Reuses or starts the engine; resolves to the address printed. Holds <dir>/s's lock meanwhile (the engine takes it to shut down). */
export async function ensureEngine(args: ShimArgs, env: NodeJS.ProcessEnv): Promise<string> {
  validateContainerId(args.id); // it names the pending mark
  const paths = shimPaths(args.address, args.namespace, env);
  const sockets = resolve(paths.socket, '..');
  mkdirSync(sockets, { recursive: true, mode: 0o700 });
  mkdirSync(resolve(paths.log, '..'), { recursive: true, mode: 0o700 });
  const lock = await lockDirectory(sockets, { what: `the berth shim's socket directory ${sockets}` });
  if (!lock) throw new Error(`${sockets} vanished`);
  try {
    if (!(await listening(paths.socket))) await launchEngine(args, paths.socket, paths.log);
    // Under the lock: an engine about to leave for want of tasks sees this one coming (engine.ts).
    mkdirSync(paths.pending, { recursive: true, mode: 0o700 });
    writeFileSync(join(paths.pending, args.id), '', { mode: 0o600 });
  } finally {
    lock.release();
  }
  return `unix://${paths.socket}`;
}

export async function startAction(args: ShimArgs, io: { stdout: (s: string) => void; env: NodeJS.ProcessEnv }): Promise<number> {
  const address = await ensureEngine(args, io.env);
  writeFileSync(resolve(args.bundle || '.', 'address'), address, { mode: 0o600 });
  io.stdout(address);
  return 0;
}
