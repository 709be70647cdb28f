// A private, real containerd for end-to-end tests and benchmarks: its own config, root, state
// and socket in a temp dir, a dedicated ctr namespace, and a cleanup that leaves nothing behind
// (tasks, shims, berth state under /run/containerd/runc/<ns>, fifos and shim sockets).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_BIN } from './paths.js';
import { tempDir } from './bundle.js';
import { alive } from './host.js';
import { berthStateDir } from '../../src/core/state-root.js';

/** The shim keeps these outside containerd's own state dir, whatever the config says. */
export const SHIM_RUN_DIR = '/run/containerd';

export interface CmdResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Containerd {
  /** Temp dir holding config, root, state, socket and containerd's log. */
  dir: string;
  socket: string;
  namespace: string;
  pid: number;
  /** berth's --root as the runc shim passes it. */
  berthRoot: string;
  /** `ctr -a SOCK -n NS ...args`; resolves whatever the exit code. */
  ctr(args: string[], options?: { timeoutMs?: number; input?: string }): Promise<CmdResult>;
  /** Like ctr, but a non-zero exit throws with ctr's stderr. */
  ctrOk(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** containerd's own log so far. */
  log(): string;
  /** Removes every task and container of the namespace, stops containerd, cleans up. */
  stop(): Promise<void>;
  /** Stops containerd (TERM) and starts it again on the same state; shims keep running. */
  restart(): Promise<void>;
}

export interface StartOptions {
  namespace?: string;
  /** How long to wait for `ctr version` to answer. */
  readyTimeoutMs?: number;
  /** containerd's environment (it passes it on to the shims it starts); default: the test's. */
  env?: NodeJS.ProcessEnv;
}

const DISABLED_PLUGINS = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

export function run(file: string, args: string[], options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CmdResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function toml(s: string): string {
  return JSON.stringify(s);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readCmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** PIDs of shims serving this containerd (they carry `-address SOCK` on their command line). */
export function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const p of listDir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const argv = readCmdline(p);
    if (!(argv[0] ?? '').includes('containerd-shim')) continue;
    const i = argv.indexOf('-address');
    if (i >= 0 && argv[i + 1] === socket) pids.push(Number(p));
  }
  return pids;
}

async function killAndWait(pids: number[], graceMs: number): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const hard = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < hard) await sleep(50);
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === dir || mp.startsWith(dir + '/'))) out.push(mp.replace(/\\040/g, ' '));
  }
  return out.sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  for (const mp of mountsUnder(dir)) await run('umount', ['-l', mp], { timeoutMs: 10_000 });
}

/**
 * The cgroups containerd's default spec puts containers in are /<namespace>/<id>: the runtimes
 * remove the leaf, nobody removes the namespace's own. Only empty cgroups can be removed.
 */
export function removeNamespaceCgroups(namespace: string, cgroupRoot = '/sys/fs/cgroup'): void {
  const bases = [join(cgroupRoot, namespace), ...listDir(cgroupRoot).map((c) => join(cgroupRoot, c, namespace))];
  for (const base of bases) {
    let isDir = false;
    try {
      isDir = statSync(base).isDirectory();
    } catch {
      continue;
    }
    if (!isDir) continue;
    for (const child of listDir(base)) {
      try {
        if (statSync(join(base, child)).isDirectory()) rmdirSync(join(base, child));
      } catch {
        // busy (a live process) or a control file
      }
    }
    try {
      rmdirSync(base);
    } catch {
      // busy, or already gone through another controller's symlink
    }
  }
}

/** The shim's socket, as containerd 1.6 names it: sha256(<grpc address>/<ns>/<id>). */
export function shimSocketName(socket: string, namespace: string, id: string): string {
  return createHash('sha256').update(join(socket, namespace, id)).digest('hex');
}

export async function startContainerd(options: StartOptions = {}): Promise<Containerd> {
  const namespace = options.namespace ?? 'berth-e2e';
  const tmp = tempDir('berth-containerd-');
  const dir = tmp.path;
  const socket = join(dir, 'containerd.sock');
  const berthRoot = join(SHIM_RUN_DIR, 'runc', namespace);
  // What existed in the shim's directories before, so only our own leftovers are removed.
  const runDirExisted = existsSync(SHIM_RUN_DIR);
  const before = new Map<string, Set<string>>();
  for (const sub of ['fifo', 's']) before.set(sub, new Set(listDir(join(SHIM_RUN_DIR, sub))));
  const seenIds = new Set<string>();

  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = ${toml(join(dir, 'root'))}`,
      `state = ${toml(join(dir, 'state'))}`,
      `disabled_plugins = [${DISABLED_PLUGINS.map(toml).join(', ')}]`,
      '[grpc]',
      `  address = ${toml(socket)}`,
      '[ttrpc]',
      `  address = ${toml(socket + '.ttrpc')}`,
      '[debug]',
      '  address = ""',
      '  level = "info"',
      '[metrics]',
      '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${toml(join(dir, 'opt'))}`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'root'), { recursive: true });
  const logFile = join(dir, 'containerd.log');
  let exited = false;
  let pid = 0;
  const launch = (): void => {
    const logFd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', logFd, logFd], detached: false, env: options.env ?? process.env });
    } finally {
      closeSync(logFd);
    }
    exited = false;
    child.on('exit', () => (exited = true));
    pid = child.pid!;
  };
  launch();
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const ctr: Containerd['ctr'] = (args, o = {}) => {
    // Remember every container id we touch, to find its shim socket at cleanup.
    for (const a of args) if (/^[\w.-]+$/.test(a)) seenIds.add(a);
    return run('ctr', ['-a', socket, '-n', namespace, ...args], o);
  };
  const ctrOk: Containerd['ctrOk'] = async (args, o = {}) => {
    const r = await ctr(args, o);
    if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
    return r.stdout;
  };

  /** Force-deletes what berth still knows under the shim's root (processes, cgroups, backend state). */
  const cleanBerthRoot = async (): Promise<void> => {
    for (const id of listDir(join(berthStateDir(berthRoot), 'containers'))) {
      await run(BERTH_BIN, ['--root', berthRoot, 'delete', '--force', id], { timeoutMs: 30_000 }).catch(() => undefined);
    }
    rmSync(berthRoot, { recursive: true, force: true });
    removeNamespaceCgroups(namespace);
  };
  // A run that was killed may have left containers in this namespace's berth root.
  await cleanBerthRoot();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // 1. Through containerd: kill and delete every task, then containers and images.
    if (!exited) {
      const tasks = await ctr(['task', 'ls', '-q'], { timeoutMs: 15_000 }).catch(() => undefined);
      for (const id of (tasks?.stdout ?? '').split('\n').filter(Boolean)) {
        await ctr(['task', 'kill', '-a', '-s', 'KILL', id], { timeoutMs: 15_000 }).catch(() => undefined);
        await ctr(['task', 'delete', '-f', id], { timeoutMs: 15_000 }).catch(() => undefined);
      }
      const containers = await ctr(['container', 'ls', '-q'], { timeoutMs: 15_000 }).catch(() => undefined);
      for (const id of (containers?.stdout ?? '').split('\n').filter(Boolean)) {
        await ctr(['container', 'delete', id], { timeoutMs: 15_000 }).catch(() => undefined);
      }
    }
    // 2. containerd itself: TERM, then KILL.
    await killAndWait(exited ? [] : [pid], 10_000);
    // 3. Shims that outlived it (they are meant to survive a containerd restart).
    await killAndWait(shimPids(socket), 3_000);
    // 4. berth's state for the namespace, and the namespace's cgroups.
    await cleanBerthRoot();
    // 5. The shim's sockets and ctr's fifos made during this run.
    for (const sub of ['fifo', 's']) {
      const old = before.get(sub)!;
      for (const name of listDir(join(SHIM_RUN_DIR, sub))) {
        if (!old.has(name)) rmSync(join(SHIM_RUN_DIR, sub, name), { recursive: true, force: true });
      }
    }
    for (const id of seenIds) rmSync(join(SHIM_RUN_DIR, 's', shimSocketName(socket, namespace, id)), { force: true });
    for (const d of ['runc', 'fifo', 's']) {
      try {
        rmdirSync(join(SHIM_RUN_DIR, d));
      } catch {
        // not empty (someone else's) or absent
      }
    }
    if (!runDirExisted) {
      try {
        rmdirSync(SHIM_RUN_DIR);
      } catch {
        // not empty
      }
    }
    // 6. Rootfs mounts under the state dir, then the temp dir.
    await unmountUnder(dir);
    tmp.remove();
  };

  /** Waits until it answers. */
  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    for (;;) {
      if (exited) {
        const log = readLog();
        await stop();
        throw new Error(`containerd exited during startup:\n${log.split('\n').slice(-20).join('\n')}`);
      }
      if (existsSync(socket)) {
        const r = await run('ctr', ['-a', socket, 'version'], { timeoutMs: 5_000 });
        if (r.code === 0 && r.stdout.includes('Server:')) break;
      }
      if (Date.now() > deadline) {
        const log = readLog();
        await stop();
        throw new Error(`containerd did not answer within ${options.readyTimeoutMs ?? 20_000} ms:\n${log.split('\n').slice(-20).join('\n')}`);
      }
      await sleep(50);
    }
  };
  await waitReady();

  /** containerd stopped (TERM) and started again with the same config, state and environment; shims live on. */
  const restart = async (): Promise<void> => {
    await killAndWait([pid], 10_000);
    launch();
    await waitReady();
  };

  return { dir, socket, namespace, get pid() {
      return pid;
    }, berthRoot, ctr, ctrOk, log: readLog, stop, restart };
}
