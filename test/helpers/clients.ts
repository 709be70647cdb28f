// Real Docker and Podman from Debian's packages, private to one test run: each has its own
// data root, run directories, socket, network bridge (a name and subnet of its own, made and
// removed by the test) and config, in a temp dir; dockerd is stopped by PID, and nothing of
// either outlives the run. Both drive an OCI runtime as containerd's shim and conmon do, so a
// "runtime" here is a path and the arguments put before the client's own (berth --runtime X).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs } from './bundle.js';
import { run, type CmdResult } from './containerd.js';
import { startDaemon, type Daemon } from './daemon.js';
import { waitFor } from './wait.js';

/** The docker client of docker.io (a newer one elsewhere on PATH may not talk to dockerd 20.10). */
export const DOCKER_CLIENT = '/usr/bin/docker';

export interface Runtime {
  /** The name the client knows it by. */
  name: string;
  path: string;
  args: string[];
}

export interface Client {
  kind: 'docker' | 'podman';
  /** The client with its private flags; resolves whatever the exit code. */
  cli(args: string[], options?: { timeoutMs?: number }): Promise<CmdResult>;
  /** Like cli, but a non-zero exit throws with the client's stderr. */
  ok(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** What `run` needs to pick a runtime. */
  runtimeFlag(r: Runtime): string[];
  /** The subnet of its default network (a.b.c.0/24). */
  subnet: string;
  stop(): Promise<void>;
}

/** A bridge of the test's own, so neither client makes or changes a host-wide one. */
function makeBridge(name: string, subnet: string): void {
  execFileSync('ip', ['link', 'add', name, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', subnet.replace(/0\/24$/, '1/24'), 'dev', name]);
  execFileSync('ip', ['link', 'set', name, 'up']);
}

function removeBridge(name: string): void {
  if (existsSync(`/sys/class/net/${name}`)) execFileSync('ip', ['link', 'del', name]);
}

/** Unmounts whatever is still mounted under dir (deepest first), so that it can be removed. */
function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of points) execFileSync('umount', ['-l', m]);
}

/** A busybox rootfs as a tar, for `docker import` / `podman import`. */
export function busyboxTar(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const file = join(dir, 'busybox.tar');
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', file, '.']);
  return file;
}

/** A short, unique-enough suffix for host-wide names (interface names are at most 15 bytes). */
function tag(): string {
  return `${process.pid % 1000}${Math.floor(Math.random() * 100)}`;
}

function subnetFor(seed: number): string {
  return `10.233.${seed % 250}.0/24`;
}

export async function startDocker(dir: string, runtimes: readonly Runtime[]): Promise<Client> {
  mkdirSync(dir, { recursive: true });
  const bridge = `bthd${tag()}`;
  const subnet = subnetFor(Number(tag()));
  makeBridge(bridge, subnet);
  const config = {
    runtimes: Object.fromEntries(runtimes.filter((r) => r.name !== 'runc').map((r) => [r.name, { path: r.path, ...(r.args.length ? { runtimeArgs: r.args } : {}) }])),
    bridge,
    iptables: false,
    'ip-forward': false,
    'ip-masq': false,
    'storage-driver': 'vfs',
  };
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify(config));
  const socket = join(dir, 'docker.sock');
  const daemon: Daemon = startDaemon(
    'dockerd',
    ['--config-file', join(dir, 'daemon.json'), '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'), '-H', `unix://${socket}`, '--containerd-namespace', `berth-e2e-${tag()}`, '--containerd-plugins-namespace', `berth-e2e-p-${tag()}`],
    join(dir, 'dockerd.log'),
  );
  const cli = (args: string[], options: { timeoutMs?: number } = {}): Promise<CmdResult> => run(DOCKER_CLIENT, ['-H', `unix://${socket}`, ...args], { timeoutMs: options.timeoutMs ?? 60_000 });
  try {
    await waitFor('dockerd to answer', async () => ((await cli(['version'], { timeoutMs: 5_000 })).code === 0 ? true : undefined), 60_000);
  } catch (err) {
    await daemon.stop();
    removeBridge(bridge);
    throw new Error(`dockerd did not start: ${daemon.output().slice(-2000)}`, { cause: err });
  }
  return {
    kind: 'docker',
    cli,
    ok: okOf(cli),
    runtimeFlag: (r) => ['--runtime', r.name],
    subnet,
    stop: async () => {
      const ids = (await cli(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await cli(['rm', '-f', ...ids], { timeoutMs: 120_000 });
      // dockerd stops the containerd it started; KILL after the grace period if it hangs.
      await daemon.stop(20_000);
      killPidFile(join(dir, 'exec', 'containerd', 'containerd.pid'));
      unmountUnder(dir);
      removeBridge(bridge);
    },
  };
}

function killPidFile(file: string): void {
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

export async function startPodman(dir: string): Promise<Client> {
  mkdirSync(join(dir, 'cni'), { recursive: true });
  const bridge = `bthp${tag()}`;
  const subnet = subnetFor(Number(tag()) + 1);
  const network = `berth-e2e-${tag()}`;
  // The sandbox's limits are below Podman's default ulimits (containers.conf's own note).
  writeFileSync(
    join(dir, 'containers.conf'),
    `[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n\n[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${join(dir, 'cni')}"\ndefault_network = "${network}"\n\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${join(dir, 'events.log')}"\ntmp_dir = "${join(dir, 'tmp')}"\n`,
  );
  writeFileSync(
    join(dir, 'cni', `${network}.conflist`),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: network,
      plugins: [
        { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet, gateway: subnet.replace(/0\/24$/, '1') }]], dataDir: join(dir, 'cni-ipam') } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const base = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const cli = (args: string[], options: { timeoutMs?: number } = {}): Promise<CmdResult> => run('podman', [...base, ...args], { timeoutMs: options.timeoutMs ?? 60_000, env });
  const wrappers = join(dir, 'runtimes');
  mkdirSync(wrappers, { recursive: true });
  return {
    kind: 'podman',
    cli,
    ok: okOf(cli),
    // Podman takes a runtime as a path, with no arguments of its own: a wrapper adds them.
    runtimeFlag: (r) => {
      if (r.args.length === 0) return ['--runtime', r.path];
      const file = join(wrappers, r.name);
      if (!existsSync(file)) {
        writeFileSync(file, `#!/bin/sh\nexec ${[r.path, ...r.args].map((a) => `'${a}'`).join(' ')} "$@"\n`);
        chmodSync(file, 0o755);
      }
      return ['--runtime', file];
    },
    subnet,
    stop: async () => {
      await cli(['rm', '-af', '-t', '0'], { timeoutMs: 120_000 });
      await cli(['pod', 'rm', '-af'], { timeoutMs: 60_000 });
      unmountUnder(dir);
      removeBridge(bridge);
    },
  };
}

function okOf(cli: Client['cli']): Client['ok'] {
  return async (args, options) => {
    const r = await cli(args, options);
    if (r.code !== 0) throw new Error(`${args.slice(0, 2).join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
}

/** The body of an HTTP GET on 127.0.0.1:port, or undefined when nothing answers. */
export async function httpGet(port: number, path: string): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

