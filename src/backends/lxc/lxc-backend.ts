// The lxc backend: OCI bundles run as LXC containers, with OCI's lifecycle.
//
// LXC's state lives under <berth root>/lxc (the lxcpath), one directory per container:
//   config      the LXC config written from the bundle (lxc-mapping.ts) plus this backend's keys
//   rt/         bind-mounted at /.berth in the container: the FIFOs `report` and `start`
//   lxc.log     liblxc's errors (berth-lxc-start keeps them off the container's stdio)
//   berth.json  the init's and the monitor's pids with their start times, the bundle
// create starts berth-lxc-start (liblxc in the foreground; it stays as the container's monitor,
// outside berth) with the container's init being berth-lxc-init, bind-mounted at /.berth-init:
// it reports "ok" on rt/report and blocks on rt/start. start writes one byte to rt/start; the
// init then execs the OCI process in place, so the pid in `state` stays the same.
// kill signals the init's pid from the host; delete kills, waits for the monitor and removes
// the directory, the cgroups LXC leaves (the monitor's pivot) and LXC's lock file.
import { chmodSync, closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { hostCgroupMode } from '../../core/cgroup-mode.js';
import { sleep } from '../../core/clock.js';
import { BackendError, InvalidArgumentError, InvalidBundleError, UnsupportedError, errnoCode } from '../../core/errors.js';
import { runTool, startTool, type StartedTool } from '../../core/exec.js';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { makeDirIfPossible } from '../../core/state-root.js';
import { errorFields, log } from '../../core/log.js';
import { runtimeConfigSchema, type RuntimeConfig } from '../../core/oci/runtime-config.js';
import { isSameLiveProcess, readProcStat } from '../../core/proc.js';
import { Revert } from '../../core/revert.js';
import type { ParsedSignal } from '../../core/signals.js';
import type { Backend, BackendCapabilities, BackendSettings, CreateRequest } from '../backend.js';
import { containerPids, isFrozen, removeCgroupDirs } from './lxc-cgroups.js';
import { encodeInitArg, mapOciToLxc, renderLxcConfig, type LxcConfigEntry, type PathKind } from './lxc-mapping.js';
import { attachArgv, containerPid } from './lxc-hooks.js';
import { hookState, hooksOf, onHost, runOciHooks, type HookState, type OciHook } from '../oci-hooks.js';
import { findLxcTools, INIT_IN_CONTAINER, RT_IN_CONTAINER, type LxcTools } from './lxc-tools.js';
import { lxcExec } from './lxc-exec.js';
import { mkfifo, readFifo, releaseReader } from './lxc-fifo.js';
import { nsTypeProblems } from './lxc-namespaces.js';

const CAPABILITIES: BackendCapabilities = { exec: true, pause: true, update: true, ps: true, consoleSocket: true };
/** The fd on which berth-lxc-start gives the init the socket for its terminal's master. */
const CONSOLE_FD = '6';

/** A create that takes longer (hooks included) is stuck. */
const CREATE_TIMEOUT_MS = 60_000;
/** How long delete waits for the monitor to clean up after the init died. */
const MONITOR_EXIT_MS = 10_000;
/** berth-lxc-start's own failure (the container could not be started at all). */
const LAUNCHER_FAILED = 125;

interface ContainerState {
  initPid: number;
  initStartTime: number | undefined;
  launcherPid: number;
  launcherStartTime: number | undefined;
  bundle: string;
  /** The backend config the container was made from (absent in state older than 0.9). */
  config?: string;
}

export async function createLxcBackend(settings: BackendSettings): Promise<Backend> {
  const tools: LxcTools = findLxcTools();
  const lxcpath = join(settings.root, 'lxc');
  // Not fatal on a read-only root: kill and state need no new directory (create checks the root first).
  makeDirIfPossible(lxcpath);
  const dirOf = (id: string): string => join(lxcpath, id);
  const failure = (verb: string, id: string, why: string, cause?: unknown): BackendError =>
    new BackendError(`lxc ${verb} of container "${id}" failed: ${why}`, cause === undefined ? undefined : { cause });

  function readState(id: string): ContainerState | undefined {
    try {
      return JSON.parse(readFileSync(join(dirOf(id), 'berth.json'), 'utf8')) as ContainerState;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The config a container was made from; state older than 0.9 knew only the bundle's. */
  const stateConfig = (s: ContainerState): string => s.config ?? join(s.bundle, 'config.json');

  /** The live init's pid, or undefined when it has exited (or was never recorded). */
  function liveInit(id: string): number | undefined {
    const s = readState(id);
    return s && isSameLiveProcess(s.initPid, s.initStartTime) ? s.initPid : undefined;
  }

  function requireInit(verb: string, id: string): number {
    const pid = liveInit(id);
    if (pid === undefined) throw failure(verb, id, 'its init process is not running');
    return pid;
  }

  async function lxcTool(verb: string, id: string, argv: string[]): Promise<string> {
    const r = await runTool(argv);
    if (r.exitCode !== 0) throw failure(verb, id, lastLine(r.stderr) ?? `${argv[0]} exited with ${r.exitCode ?? r.signal}`, new Error(r.stderr.trim()));
    return r.stdout;
  }

  /** lxc-info's view: the init pid LXC knows, or undefined when LXC sees it stopped. */
  async function lxcInitPid(id: string): Promise<number | undefined> {
    const r = await runTool([tools.info, '-P', lxcpath, '-n', id, '-p', '-H']);
    const pid = Number(r.stdout.trim());
    return r.exitCode === 0 && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  function pathKind(hostPath: string): PathKind | undefined {
    try {
      return statSync(hostPath).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  }

  /** The backend config (CreateRequest.config); its root.path is absolute. */
  function readBundleConfig(bundle: string, file: string): { config: RuntimeConfig; rootfs: string } {
    const parsed = runtimeConfigSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new InvalidBundleError(`${file} is not a valid OCI runtime config`);
    const path = resolve(bundle, parsed.data.root.path);
    if (!pathKind(path)) throw new InvalidBundleError(`root filesystem ${path} does not exist`);
    if (pathKind(path) !== 'dir') throw new InvalidBundleError(`root filesystem ${path} is not a directory`);
    // LXC refuses a rootfs path that is a symlink: give it the directory itself.
    return { config: parsed.data, rootfs: realpathSync(path) };
  }

  /** The config file: the mapping's entries, then this backend's. */
  async function writeConfig(id: string, bundle: string, config: RuntimeConfig, rootfs: string, terminal: boolean): Promise<void> {
    const mode = hostCgroupMode().mode;
    if (mode === 'none') throw failure('create', id, 'no cgroup hierarchy is mounted on this host');
    const hookState = { ociVersion: config.ociVersion, id, bundle, annotations: config.annotations ?? {} };
    const dir = dirOf(id);
    const seccompProfile = join(dir, 'seccomp');
    const mapping = mapOciToLxc(config, { rootfs, cgroupMode: mode, initPath: INIT_IN_CONTAINER, initArgs: ['--stdio', '3', ...(terminal ? ['--console', CONSOLE_FD] : []), '--wait', RT_IN_CONTAINER], terminal, pathKind, hookState, seccompProfile });
    for (const d of mapping.degradations) {
      await log('debug', `lxc: ${d.field} is not honoured exactly: ${d.reason}`, { op: 'create', id, backend: 'lxc' });
    }
    if (mapping.seccompPolicy !== undefined) writeFileAtomic(seccompProfile, mapping.seccompPolicy, 0o600);
    const own: LxcConfigEntry[] = [
      // Read-only: the container can use the FIFOs (no write to the file system) but not replace them.
      { key: 'lxc.mount.entry', value: `${dir}/rt ${RT_IN_CONTAINER.slice(1)} none bind,ro,nosuid,nodev,noexec,create=dir 0 0` },
      { key: 'lxc.mount.entry', value: `${tools.init} ${INIT_IN_CONTAINER.slice(1)} none bind,ro,create=file 0 0` },
      // The init keeps the stdio berth was given, as with runc, or opens its own terminal; no LXC console, no ttys.
      { key: 'lxc.console.path', value: 'none' },
      { key: 'lxc.tty.max', value: '0' },
    ];
    // The cgroup is linux.cgroupsPath, which the runtime sets to a path unique per state root
    // (runtime/cgroup-path.ts) when the bundle has none: one source of the name for every backend.
    const annotations = Object.entries(mapping.annotations).map(([k, v]) => `# annotation ${JSON.stringify(k)} = ${JSON.stringify(v)}\n`);
    const text = `# Written by berth from the bundle's config.json (lxc backend); removed with the container.\n${annotations.join('')}${renderLxcConfig([...mapping.entries, ...own])}`;
    writeFileAtomic(join(dir, 'config'), text, 0o600);
  }

  function lastLogError(id: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(join(dirOf(id), 'lxc.log'), 'utf8');
    } catch {
      return undefined;
    }
    // liblxc's lines: "<prefix> <name> <time> ERROR <module> - <file>:<line> - <message>". The
    // first error is the cause; the rest say what failed because of it.
    const first = text.split('\n').find((l) => / ERROR /.test(l));
    const own = text.split('\n').filter((l) => l.startsWith('berth-lxc-start: ')).pop();
    return first ? first.replace(/^.* - [^ ]+:\d+ - /, '') : own;
  }

  /** Whether berth-lxc-start itself failed (its own line in the log), not the container. */
  function launcherFailed(id: string): boolean {
    try {
      return /^berth-lxc-start: /m.test(readFileSync(join(dirOf(id), 'lxc.log'), 'utf8'));
    } catch {
      return false;
    }
  }

  /**
   * Sets the container up to the waiting init. Returns the monitor (still berth's child) and
   * the init's pid. On failure everything is undone by `revert` (the caller runs it).
   */
  async function setUp(req: CreateRequest, revert: Revert): Promise<{ launcher: StartedTool; initPid: number }> {
    const id = req.id;
    if (settings.systemdCgroup) throw new UnsupportedError('backend lxc cannot use --systemd-cgroup: liblxc manages the container\'s cgroups itself');
    if (req.preserveFds > 0) throw new UnsupportedError('backend lxc cannot pass extra file descriptors (--preserve-fds) to the container');
    const { config, rootfs } = readBundleConfig(req.bundle, req.config);
    const terminal = req.consoleSocket !== undefined;
    if (terminal && !config.process?.terminal) throw new InvalidArgumentError('--console-socket needs process.terminal: true in the bundle');
    const badNamespaces = await nsTypeProblems(config, tools.launcher);
    if (badNamespaces.length) throw new InvalidArgumentError(badNamespaces.join('; '));
    const dir = dirOf(id);
    if (existsSync(dir)) throw failure('create', id, `LXC state for it already exists in ${dir}`);
    mkdirSync(dir, { mode: 0o700 });
    revert.add('lxc container directory', () => removeContainer(id));
    mkdirSync(join(dir, 'rt'), { mode: 0o755 });
    chmodSync(join(dir, 'rt'), 0o755);
    const report = join(dir, 'rt', 'report');
    const mkfifoFailed = (why: string) => failure('create', id, why);
    await mkfifo(report, mkfifoFailed);
    await mkfifo(join(dir, 'rt', 'start'), mkfifoFailed);
    await writeConfig(id, req.bundle, config, rootfs, terminal);

    const reported = readFifo(report);
    reported.catch(() => undefined);
    const launcher = await startTool([tools.launcher, ...(terminal ? ['--console-socket', req.consoleSocket!] : []), id, lxcpath, join(dir, 'lxc.log')]);
    revert.add('lxc monitor', async () => {
      const pid = await lxcInitPid(id).catch(() => undefined);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      const wait = deadline(MONITOR_EXIT_MS);
      await Promise.race([launcher.exited, wait.promise]);
      wait.cancel();
    });
    const timeout = deadline(CREATE_TIMEOUT_MS);
    const outcome = await Promise.race([
      reported.then((text) => ({ text })),
      launcher.exited.then((r) => ({ exit: r })),
      timeout.promise,
    ]);
    timeout.cancel();
    if (!('text' in outcome)) {
      // The init may have reported before LXC gave up on it (a missing program): its words first.
      releaseReader(report);
      const text = await reported.catch(() => '');
      if (text.startsWith('error: ')) throw failure('create', id, text.slice('error: '.length));
      if ('timeout' in outcome) throw failure('create', id, `the container did not get ready within ${CREATE_TIMEOUT_MS / 1000} s`);
      const why = lastLogError(id) ?? `berth-lxc-start exited with ${outcome.exit.exitCode ?? outcome.exit.signal}${outcome.exit.error ? ` (${outcome.exit.error.message})` : ''}`;
      throw failure('create', id, why);
    }
    if (outcome.text !== 'ok') throw failure('create', id, outcome.text.replace(/^error: /, ''));
    const initPid = await lxcInitPid(id);
    if (initPid === undefined) throw failure('create', id, 'LXC does not report the init process');
    const state: ContainerState = {
      initPid,
      initStartTime: readProcStat(initPid)?.startTime,
      launcherPid: launcher.pid,
      launcherStartTime: readProcStat(launcher.pid)?.startTime,
      bundle: req.bundle,
      config: req.config,
    };
    writeFileAtomic(join(dir, 'berth.json'), JSON.stringify(state), 0o600);
    writeFileSync(req.pidFile, String(initPid));
    return { launcher, initPid };
  }

  async function create(req: CreateRequest): Promise<StartedTool> {
    const revert = new Revert();
    try {
      const { launcher } = await setUp(req, revert);
      revert.commit();
      return launcher;
    } catch (err) {
      for (const f of await revert.run()) await log('warn', `lxc: cleanup of ${f.what} failed`, { op: 'create', id: req.id, ...errorFields(f.error) });
      throw err;
    }
  }

  async function start(id: string): Promise<void> {
    const initPid = requireInit('start', id);
    const s = readState(id)!;
    const { config } = readBundleConfig(s.bundle, stateConfig(s));
    let fd: number;
    try {
      fd = openSync(join(dirOf(id), 'rt', 'start'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
    } catch (err) {
      throw failure('start', id, errnoCode(err) === 'ENXIO' ? 'its init is not waiting to be started (started already?)' : (err as Error).message, err);
    }
    try {
      // startContainer: in the container, before the program; a failure stops the container.
      const inContainer = (h: OciHook) => ({ argv: attachArgv([tools.attach, '-P', lxcpath, '-n', id, '-q', '--clear-env'], INIT_IN_CONTAINER, h, encodeInitArg) });
      const failed = await runOciHooks('lxc', 'startContainer', hooksOf(config, 'startContainer'), hookState(config, id, s.bundle, 'created', containerPid(config, initPid)), inContainer);
      if (failed) {
        killQuietly(initPid);
        throw failure('start', id, failed);
      }
      writeSync(fd, 's');
    } finally {
      closeSync(fd);
    }
    // The process runs now: poststart hooks that fail (or cannot even run) are warnings.
    await runOciHooks('lxc', 'poststart', hooksOf(config, 'poststart'), hookState(config, id, s.bundle, 'running', initPid), onHost).catch((err: unknown) =>
      log('warn', `lxc: poststart hooks of "${id}" could not run: ${(err as Error).message}`, { op: 'start', id, backend: 'lxc' }),
    );
  }

  function killQuietly(pid: number): void {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** delete, then the poststop hooks (on the host, after the container is gone; failures are warnings). */
  async function deleteContainer(id: string, force: boolean): Promise<void> {
    const s = existsSync(dirOf(id)) ? readState(id) : undefined;
    let poststop: { hooks: OciHook[]; state: HookState } | undefined;
    if (s) {
      try {
        const { config } = readBundleConfig(s.bundle, stateConfig(s));
        poststop = { hooks: hooksOf(config, 'poststop'), state: hookState(config, id, s.bundle, 'stopped', undefined) };
      } catch (err) {
        await log('warn', `lxc: cannot read the poststop hooks of "${id}": ${(err as Error).message}`, { op: 'delete', id, backend: 'lxc' });
      }
    }
    await destroy(id, force);
    if (poststop?.hooks.length) await runOciHooks('lxc', 'poststop', poststop.hooks, poststop.state, onHost);
  }

  /** Waits for the monitor to finish (it removes the container's cgroups when the init is gone). */
  async function waitMonitor(id: string, s: ContainerState | undefined): Promise<void> {
    const deadline = Date.now() + MONITOR_EXIT_MS;
    while (Date.now() < deadline) {
      const gone = s ? !isSameLiveProcess(s.launcherPid, s.launcherStartTime) : (await lxcInitPid(id)) === undefined;
      if (gone) return;
      await sleep(10);
    }
    throw failure('delete', id, `its LXC monitor did not exit within ${MONITOR_EXIT_MS / 1000} s`);
  }

  /** The directory, the cgroups LXC leaves and LXC's lock file: after the monitor is gone. */
  function removeContainer(id: string): void {
    const dir = dirOf(id);
    const cgroupDirs = readConfigValues(join(dir, 'config'), /^lxc\.cgroup\.dir\.(container|monitor|monitor\.pivot)$/);
    rmSync(dir, { recursive: true, force: true });
    // Only the container's own cgroups go (and what LXC nests in them): their parents, such as
    // berth-<root id>/, are shared with other containers, whose creates may be making them right
    // now; removing an empty parent would race them ("Failed to enter cgroup").
    // An exited monitor pins its pivot cgroup until it is reaped (by whoever adopted it).
    let left = removeCgroupDirs(cgroupDirs);
    for (let tries = 0; left.length > 0 && tries < 100; tries++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      left = removeCgroupDirs(cgroupDirs);
    }
    if (left.length) void log('warn', `lxc: cgroups of "${id}" still in use, not removed: ${left.join(', ')}`, { id, backend: 'lxc' });
    // LXC's lock: /run/lxc/lock/<lxcpath>/.<name>, with the directories it made for the lxcpath.
    const lockDir = join('/run/lxc/lock', lxcpath);
    rmSync(join(lockDir, `.${id}`), { force: true });
    for (let d = lockDir; d !== '/run/lxc/lock' && d !== '/'; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  }

  /** LXC's state name (STOPPED, STARTING, RUNNING, …) of a container. */
  async function lxcState(id: string): Promise<string> {
    const r = await runTool([tools.info, '-P', lxcpath, '-n', id, '-s', '-H']);
    return r.exitCode === 0 ? r.stdout.trim() : 'STOPPED';
  }

  /** After an interrupted create: lets a container LXC is still starting get to RUNNING (or fail). */
  async function settle(id: string): Promise<void> {
    const deadline = Date.now() + CREATE_TIMEOUT_MS;
    while (Date.now() < deadline && !['RUNNING', 'STOPPED'].includes(await lxcState(id))) await sleep(20);
  }

  async function destroy(id: string, force: boolean): Promise<void> {
    if (!existsSync(dirOf(id))) return;
    const s = readState(id);
    // berth.json is missing when a create was interrupted: ask LXC, once it is done starting.
    if (!s) await settle(id);
    const pid = s ? liveInit(id) : await lxcInitPid(id);
    if (pid !== undefined) {
      if (!force) throw failure('delete', id, 'it is still running; use delete --force');
      // A frozen task takes SIGKILL only once thawed.
      if (isFrozen(pid)) await runTool([tools.unfreeze, '-P', lxcpath, '-n', id]);
      try {
        process.kill(pid, 'SIGKILL');
      } catch (err) {
        if (errnoCode(err) !== 'ESRCH') throw err;
      }
    }
    await waitMonitor(id, s);
    removeContainer(id);
  }

  async function runForeground(req: CreateRequest): Promise<number> {
    const launcher = await create(req);
    const initPid = requireInit('run', req.id);
    const forward = (sig: NodeJS.Signals): void => {
      try {
        process.kill(initPid, sig);
      } catch {
        // already gone
      }
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
    for (const sig of signals) process.on(sig, forward);
    try {
      await start(req.id);
      const r = await launcher.exited;
      if (r.exitCode === LAUNCHER_FAILED && launcherFailed(req.id)) throw failure('run', req.id, lastLogError(req.id) ?? 'berth-lxc-start failed');
      return r.exitCode ?? 128 + (r.signal ? (osConstants.signals[r.signal] ?? 1) : 1);
    } finally {
      for (const sig of signals) process.off(sig, forward);
    }
  }

  const exec = lxcExec({
    tools,
    lxcpath,
    dirOf,
    requireInit,
    failure,
    processEnv: (id) => {
      const st = readState(id)!;
      return ((readBundleConfig(st.bundle, stateConfig(st)).config.process as { env?: string[] }).env ?? []);
    },
  });

  return {
    name: 'lxc',
    capabilities: CAPABILITIES,
    async create(req) {
      (await create(req)).unref();
    },
    start,
    runForeground,
    // The init is liblxc's child; its monitor exits with the init's status (berth-lxc-start.c).
    waitablePid: (id) => readState(id)?.launcherPid,
    async kill(id, signal: ParsedSignal, all) {
      const initPid = requireInit('kill', id);
      const targets = all ? containerPids(initPid) : [initPid];
      for (const pid of targets.length ? targets : [initPid]) {
        try {
          process.kill(pid, signal.number);
        } catch (err) {
          if (errnoCode(err) !== 'ESRCH') throw failure('kill', id, (err as Error).message, err);
        }
      }
    },
    delete: deleteContainer,
    async pause(id) {
      requireInit('pause', id);
      await lxcTool('pause', id, [tools.freeze, '-P', lxcpath, '-n', id]);
    },
    async resume(id) {
      requireInit('resume', id);
      await lxcTool('resume', id, [tools.unfreeze, '-P', lxcpath, '-n', id]);
    },
    exec,
    async ps(id) {
      return containerPids(requireInit('ps', id));
    },
    async update(id, resources) {
      requireInit('update', id);
      const { mapLxcResources } = await import('./lxc-mapping.js');
      let parsed: unknown;
      try {
        parsed = JSON.parse(resources);
      } catch (err) {
        throw failure('update', id, `the resources are not JSON: ${(err as Error).message}`);
      }
      const mode = hostCgroupMode().mode;
      if (mode === 'none') throw failure('update', id, 'no cgroup hierarchy is mounted on this host');
      const { entries, degradations } = mapLxcResources(parsed as Record<string, unknown>, mode);
      for (const d of degradations) await log('debug', `lxc: ${d.field} is not honoured exactly: ${d.reason}`, { op: 'update', id, backend: 'lxc' });
      for (const e of entries) {
        await lxcTool('update', id, [tools.cgroup, '-P', lxcpath, '-n', id, e.key.replace(/^lxc\.cgroup2?\./, ''), e.value]);
      }
    },
    async version() {
      const r = await runTool([tools.info, '--version']);
      return `lxc ${r.stdout.trim() || `(lxc-info exit ${r.exitCode})`} (${tools.info}; helpers ${dirname(tools.init)})`;
    },
    async features() {
      return undefined;
    },
  };
}

/** A timeout that does not keep berth alive once the race it is in is over. */
function deadline(ms: number): { promise: Promise<{ timeout: true }>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<{ timeout: true }>((resolve) => (timer = setTimeout(() => resolve({ timeout: true }), ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Values of the keys matching `key` in an LXC config file (none when it is gone). */
function readConfigValues(file: string, key: RegExp): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (line.startsWith('#') || eq < 0) continue;
    if (key.test(line.slice(0, eq).trim())) out.push(line.slice(eq + 1).trim());
  }
  return out;
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').pop() || undefined;
}
