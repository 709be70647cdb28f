// A real zfs-fuse for tests: the daemon (started here only if none runs, and then stopped by its
// PID), and throwaway pools on sparse files in temp dirs that are always destroyed.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../src/core/clock.js';
import { runTool } from '../../src/core/exec.js';
import { ZfsCli } from '../../src/storage/zfs/zfs-cli.js';
import { ZfsDriver } from '../../src/storage/zfs/zfs-driver.js';
import { tempDir } from './bundle.js';
import { alive, missing } from './host.js';
import { waitFor } from './wait.js';

export const ZFS_SOCKET = '/var/run/zfs/zfs_socket';
/** Every test pool's name starts with this, so a later run can recognise leftovers. */
export const TEST_POOL_PREFIX = 'berthtest-';

/** Undefined when zfs-fuse can run here; else the reason to skip. */
export function zfsSkipReason(): string | undefined {
  const gone = missing('zfs-fuse', 'zfs', 'zpool');
  if (gone) return gone;
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse: zfs-fuse cannot mount anything';
  if (process.getuid?.() !== 0) return 'zfs-fuse tests need root';
  return undefined;
}

/** PIDs of running zfs-fuse daemons (by /proc/PID/comm). */
export function zfsFusePids(): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'zfs-fuse') pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface ZfsDaemon {
  /** The PID of the daemon this helper started, or undefined when one was already running. */
  startedPid: number | undefined;
  cli: ZfsCli;
  /** Stops the daemon if (and only if) this helper started it. */
  stop(): Promise<void>;
}

/** Answers when the daemon's socket takes commands. */
async function daemonAnswers(): Promise<boolean> {
  const r = await runTool(['zpool', 'list', '-H', '-o', 'name']);
  return r.exitCode === 0;
}

export async function startZfs(): Promise<ZfsDaemon> {
  const cli = new ZfsCli();
  if (zfsFusePids().length > 0) {
    // Someone else's daemon: use it, never stop it. (One that is just exiting is not waited for.)
    const answered = await waitFor(
      'the running zfs-fuse to answer',
      async () => ((await daemonAnswers()) ? 'yes' : zfsFusePids().length === 0 ? 'gone' : undefined),
      10_000,
    );
    if (answered === 'yes') {
      await removeStaleTestPools(cli);
      return { startedPid: undefined, cli, stop: async () => undefined };
    }
  }
  const logDir = tempDir('berth-zfs-fuse-');
  const logFd = openSync(join(logDir.path, 'zfs-fuse.log'), 'a');
  let child;
  try {
    child = spawn('zfs-fuse', ['--no-daemon', '--no-kstat-mount'], { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid!;
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!exited && alive(pid) && Date.now() < deadline) await sleep(50);
      if (!exited && alive(pid)) process.kill(pid, 'SIGKILL');
      while (!exited && alive(pid)) await sleep(50);
    }
    logDir.remove();
  };
  try {
    await waitFor(
      'zfs-fuse to answer on its socket',
      async () => {
        if (exited) throw new Error(`zfs-fuse exited at start: ${readFileSync(join(logDir.path, 'zfs-fuse.log'), 'utf8')}`);
        return (existsSync(ZFS_SOCKET) && (await daemonAnswers())) || undefined;
      },
      15_000,
    );
    await removeStaleTestPools(cli);
  } catch (err) {
    await stop();
    throw err;
  }
  return { startedPid: pid, cli, stop };
}

/**
 * Pools of an earlier, killed test run (zfs-fuse remembers them in /var/lib/zfs/zpool.cache even
 * when their file is gone): destroy them. Only test pools (`berthtest-<pid>-<n>`) whose creating
 * process is gone: a test run in another checkout may be using the same daemon.
 */
async function removeStaleTestPools(cli: ZfsCli): Promise<void> {
  for (const pool of await cli.poolList()) {
    const m = new RegExp(`^${TEST_POOL_PREFIX}(\\d+)-\\d+$`).exec(pool);
    if (!m || alive(Number(m[1]))) continue;
    const r = await runTool(['zpool', 'destroy', '-f', pool]);
    if (r.exitCode !== 0) await runTool(['zpool', 'export', '-f', pool]);
  }
}

export interface TestPool {
  name: string;
  /** Where the pool's root dataset is mounted. */
  mountpoint: string;
  file: string;
  cli: ZfsCli;
  /** zpool destroy (busy retry) and the temp dir removed; safe to call twice. */
  destroy(): Promise<void>;
}

let poolCounter = 0;

/** A pool on a sparse file of `size` (truncate syntax, e.g. 1G, 64M) in a fresh temp dir. */
export async function createTestPool(cli: ZfsCli, size = '1G'): Promise<TestPool> {
  const dir = tempDir('berth-zpool-');
  const name = `${TEST_POOL_PREFIX}${process.pid}-${++poolCounter}`;
  const file = join(dir.path, 'pool.img');
  const mountpoint = join(dir.path, 'mnt');
  mkdirSync(mountpoint);
  const t = await runTool(['truncate', '-s', size, file]);
  if (t.exitCode !== 0) {
    dir.remove();
    throw new Error(`truncate -s ${size} ${file}: ${t.stderr}`);
  }
  try {
    await cli.poolCreate(name, [file], { mountpoint });
  } catch (err) {
    dir.remove();
    throw err;
  }
  let destroyed = false;
  return {
    name,
    mountpoint,
    file,
    cli,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await cli.poolDestroy(name);
      } finally {
        dir.remove();
      }
    },
  };
}

/** Every dataset and snapshot under `parent`, except the parent and the zfs driver's layout. */
export async function datasetsUnder(cli: ZfsCli, parent: string): Promise<string[]> {
  const layout = new Set([parent, `${parent}/images`, `${parent}/containers`]);
  return (await cli.list(parent, { type: 'all' })).filter((n) => !layout.has(n));
}

/** What the zfs integration suites stand on: the daemon, a 1G pool, and a driver on `<pool>/berth`. */
export interface ZfsRig {
  daemon: ZfsDaemon;
  pool: TestPool;
  driver: ZfsDriver;
}

/** Starts (or joins) the daemon and makes the rig; its pool goes into `pools`, which closeZfsRig destroys. */
export async function openZfsRig(pools: TestPool[]): Promise<ZfsRig> {
  const daemon = await startZfs();
  const pool = await createTestPool(daemon.cli, '1G');
  pools.push(pool);
  await daemon.cli.create(`${pool.name}/berth`);
  return { daemon, pool, driver: new ZfsDriver({ dataset: `${pool.name}/berth` }) };
}

/** zpool destroy of every pool (each tried), then the daemon stopped if this process started it. */
export async function closeZfsRig(daemon: ZfsDaemon | undefined, pools: TestPool[]): Promise<void> {
  const failures: unknown[] = [];
  for (const p of pools) await p.destroy().catch((err: unknown) => failures.push(err));
  await daemon?.stop();
  if (failures.length) throw new AggregateError(failures, 'cannot destroy test pools');
}
