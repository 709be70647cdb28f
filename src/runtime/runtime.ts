// The lifecycle of containers: what each verb does, whatever the backend. The CLI calls these
// with plain requests; backends are opened lazily from the record's backend name.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendCapabilities, ExecRequest } from '../backends/backend.js';
import type { HostDetection, ProcessModel } from '../backends/availability.js';
import { detectionFor, openBackend } from '../backends/registry.js';
import { assertConfigNamesKnown, backendSettings, tracedBackend } from './backend-open.js';
import { sleep } from '../core/clock.js';
import { crashPoint } from '../core/crash-point.js';
import { assertConfigFileExists, defaultConfig, loadConfig, type BerthConfig } from '../core/config.js';
import type { OperationOutcome } from '../core/channels.js';
import type { ImageCache } from '../images/index.js';
import { assertStateRootWritable, berthStateDir, stateRootIdentity } from '../core/state-root.js';
import { BackendError, BerthError, ContainerNotFoundError, CorruptRecordError, InvalidConfigError, UnsupportedError } from '../core/errors.js';
import { validateContainerId } from '../core/ids.js';
import { OCI_SPEC_VERSION } from '../core/version.js';
import type { Lock } from '../core/lock.js';
import { applyConfigLogLevel, log, errorFields, noteErrorContext, withLogContext } from '../core/log.js';
import { inSpan } from '../core/tracing.js';
import { STOP_SIGNAL_ANNOTATION } from '../core/oci/annotations.js';
import { parseSignal, type ParsedSignal } from '../core/signals.js';
import { berthAnnotations, builtinFeatures } from './features.js';
import { assertFdsOpen } from '../core/fds.js';
import { assertProgramNamed } from './spec-rules.js';
import { ContainerStore, type ContainerRecord } from './container-store.js';
import { destroyRecordedVolume, volumeReports } from './container-volume.js';
import { removeContainerCgroups } from './container-cgroups.js';
import { assertAllowed, deriveStatus, type ContainerStatus, type Operation } from './status.js';
import { reconcileStart } from './start-reconcile.js';
import { recoverPid, withRecoveredPid } from './pid-recovery.js';

/** How long stop waits for a KILLed container; beyond it something is wrong in the kernel or backend. */
const KILL_WAIT_MS = 10_000;

/** The guarded verbs that write the record after the backend acted (start, pause, resume marks). */
const WRITES_RECORD: ReadonlySet<Operation> = new Set<Operation>(['start', 'pause', 'resume']);

const REQUIRED_CAPABILITY: Partial<Record<Operation, keyof BackendCapabilities>> = {
  pause: 'pause',
  resume: 'pause',
  exec: 'exec',
  ps: 'ps',
  update: 'update',
};

export interface RuntimeOptions {
  root: string;
  debug: boolean;
  systemdCgroup: boolean;
  /** --runtime: wins over every routing rule for new containers. */
  runtimeOverride: string | undefined;
  /** --config */
  configPath: string | undefined;
  /** The CLI is one-shot (one process per verb); what `crun` (auto) prefers depends on it. */
  processModel?: ProcessModel;
  /** Append each operation's outcome to <root>/journal (the CLI does; unit tests need not). */
  journal?: boolean;
}

/** What an operation learns about its container while it runs, for its published outcome and log lines. */
/** Where a stop is: the signal it sent, how long it has waited for the container to go, of how long. */
export interface StopWait {
  signal: string;
  waitedS: number;
  timeoutS: number;
}

export interface OperationSubject {
  backend: string | undefined;
  /** The Proxmox VMID, for backends that have one. */
  vmid?: number;
}

/** OCI state, as runc prints it (plus runc's rootfs, created and owner). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
}

export interface ListEntry extends OciState {
  backend: string;
  /** Why the router chose that backend at create. */
  backendReason: string;
  /** The image it was made from (ref and digest), if any. */
  image?: { ref: string | undefined; digest: string };
  /** The backend's own name for it, where it has one (pve: the VMID). */
  backendRef?: string;
  /** Set when its storage volume is missing, unmounted or not its own (runtime/container-volume.ts). */
  volumeProblem?: string;
}

export class Runtime {
  readonly store: ContainerStore;
  /** berth's own directory in the root (`<root>/@berth`; the root itself for a 0.8 root). */
  readonly stateDir: string;
  private configPromise: Promise<BerthConfig> | undefined;
  private readonly backends = new Map<string, Promise<Backend>>();
  private imagesPromise: Promise<ImageCache> | undefined;
  /** Set while delete runs: a config that does not load is no reason to keep a container. */
  private deleting: string | undefined;

  constructor(readonly options: RuntimeOptions) {
    this.stateDir = berthStateDir(options.root);
    this.store = new ContainerStore(this.stateDir);
    // Checked for every verb, also those that never read the config (state, list).
    if (options.configPath !== undefined) assertConfigFileExists(options.configPath);
  }

  config(): Promise<BerthConfig> {
    this.configPromise ??= loadConfig(this.options.configPath)
      .then(({ config, source }) => {
        assertConfigNamesKnown(config, source);
        applyConfigLogLevel(config.log?.level);
        return config;
      })
      .catch(async (err: unknown) => {
        // Deletion follows the record, not today's config: a config file that does not load (a
        // syntax error, an unknown key) is a warning there, and the backend the record names is
        // opened with the defaults (its binary from PATH).
        if (this.deleting === undefined || !(err instanceof InvalidConfigError)) throw err;
        await log('warn', `${err.message}; deleting container "${this.deleting}" as its record says, with the default settings`, { op: 'delete', id: this.deleting });
        return defaultConfig();
      });
    return this.configPromise;
  }

  async backend(name: string): Promise<Backend> {
    let b = this.backends.get(name);
    if (!b) {
      b = this.config().then(async (config) => tracedBackend(await openBackend(name, backendSettings(this.options, this.stateDir, config, name))));
      this.backends.set(name, b);
    }
    return b;
  }

  /** The image cache on the configured storage, loaded only by the verbs that use images. */
  images(): Promise<ImageCache> {
    this.imagesPromise ??= this.config().then(async (config) => (await import('../images/index.js')).openImageCache({ storage: config.storage, registries: config.registries }));
    return this.imagesPromise;
  }

  /** This state root's identity (core/state-root.ts), which its host-global names carry. */
  rootId(): string {
    return stateRootIdentity(this.stateDir).id;
  }

  /**
   * Removes a container whose backend side is gone: the volume its record names (if it was
   * made from an image), then its state. The volume first, so a failure leaves a record that a
   * later delete retries; with `force`, a volume that cannot be removed is a warning.
   */
  async removeContainer(record: ContainerRecord, force = false): Promise<void> {
    await destroyRecordedVolume(this, record, force);
    await removeContainerCgroups(this, record.id, record);
    this.store.remove(record.id);
  }

  /** Which backends this host can use and why not (computed once per process). */
  async detection(): Promise<HostDetection> {
    return detectionFor(backendSettings(this.options, this.stateDir, await this.config(), 'crun-cli'));
  }

  owner(): string {
    return userInfo().username;
  }

  /** Reads a record, or fails with "does not exist" (the words containerd looks for). */
  record(id: string): ContainerRecord {
    validateContainerId(id);
    const record = this.store.read(id);
    if (!record) throw new ContainerNotFoundError(id);
    return record;
  }

  /** Status and pid from a backend that owns them (Proxmox). */
  async remoteStatus(record: ContainerRecord): Promise<{ status: ContainerStatus; pid: number | undefined; ref?: string }> {
    const backend = await this.backend(record.backend);
    if (!backend.status) throw new BackendError(`backend ${backend.name} keeps no status for container "${record.id}"`);
    return backend.status(record.id);
  }

  /** Status of a record read without holding its lock. */
  async statusOf(record: ContainerRecord): Promise<ContainerStatus> {
    return (await this.view(record)).status;
  }

  /**
   * A record read without its lock, as the next locked verb will find it (with the pid a cut
   * short create left in the pid file: runtime/pid-recovery.ts), and its status.
   */
  private async view(record: ContainerRecord): Promise<{ record: ContainerRecord; status: ContainerStatus }> {
    if (record.remote) return { record, status: (await this.remoteStatus(record)).status };
    if (record.pid === undefined) {
      const { isDirectoryLocked } = await import('../core/lock.js');
      if (await isDirectoryLocked(this.store.dir(record.id))) return { record, status: deriveStatus(record, true) };
      record = withRecoveredPid(record);
    }
    return { record, status: deriveStatus(record, false) };
  }

  toState(record: ContainerRecord, status: ContainerStatus): OciState {
    const alive = status === 'created' || status === 'running' || status === 'paused';
    return {
      ociVersion: OCI_SPEC_VERSION,
      id: record.id,
      status,
      pid: alive ? (record.pid ?? 0) : 0,
      bundle: record.bundle,
      rootfs: record.rootfs,
      created: record.created,
      owner: record.owner,
      annotations: record.annotations,
    };
  }

  async state(id: string): Promise<OciState> {
    const record = this.record(id);
    if (record.remote) {
      const { status, pid } = await this.remoteStatus(record);
      return this.toState({ ...record, pid }, status);
    }
    const view = await this.view(record);
    return this.toState(view.record, view.status);
  }

  async list(): Promise<ListEntry[]> {
    const out: ListEntry[] = [];
    // A corrupt record is reported (its path, the way out) and the others are listed.
    const { records, unreadable, recordless } = this.store.readAll();
    for (const err of unreadable) await log('warn', err.message, { op: 'list', id: err.id });
    // Directories without a record that a killed create or delete left: swept, never listed.
    for (const id of recordless) if (await this.store.sweepHollow(id)) await log('debug', `removed the empty directory of container "${id}"`, { op: 'list', id });
    // A missing or unmounted volume is reported with its container, never a failure of list.
    const volumes = await volumeReports(this, records);
    for (const record of records) {
      const remote = record.remote ? await this.remoteStatus(record) : undefined;
      const view = remote ? undefined : await this.view(record);
      const state = remote ? this.toState({ ...record, pid: remote.pid }, remote.status) : this.toState(view!.record, view!.status);
      const image = record.image ? { image: { ref: record.image.ref, digest: record.image.digest } } : {};
      const problem = volumes.get(record.id)?.problem;
      out.push({ ...state, backend: record.backend, backendReason: record.backendReason, ...(remote?.ref ? { backendRef: remote.ref } : {}), ...image, ...(problem ? { volumeProblem: problem } : {}) });
    }
    return out;
  }

  /**
   * Runs `fn` with the container's lock held, its record read and its status derived under
   * the lock (no pid under our own lock means a killed create: stopped).
   */
  async withLocked<T>(id: string, fn: (record: ContainerRecord, status: ContainerStatus, lock: Lock) => Promise<T>, opts: { takeOver?: boolean } = {}): Promise<T> {
    validateContainerId(id);
    const lock = opts.takeOver ? await this.store.lockTakingOver(id) : await this.store.lock(id);
    if (!lock) throw new ContainerNotFoundError(id);
    try {
      const read = recoverPid(this, this.store.read(id));
      if (!read) {
        // A directory without a record is no container: what a killed create or delete left.
        this.store.removeIfHollow(id);
        throw new ContainerNotFoundError(id, { leftDirectory: true });
      }
      const status = read.remote ? (await this.remoteStatus(read)).status : deriveStatus(read, false);
      return await fn(await reconcileStart(this, read, status), status, lock);
    } finally {
      lock.release();
    }
  }

  /**
   * Runs one operation and publishes its outcome (op, id, backend, result, code, duration) on
   * core/channels; with `journal`, the journal subscriber is attached first. Only the verbs that
   * change containers are observed: reads (state, list, ps) stay free of it.
   */
  async observe<T>(op: string, id: string, fn: (subject: OperationSubject) => Promise<T>): Promise<T> {
    // Attached before the operation runs: what it publishes on the way (a backend fallback,
    // storage operations, image cache lookups) reaches the journal too.
    await this.attachJournal();
    const time = new Date().toISOString();
    const t0 = performance.now();
    const subject: OperationSubject = { backend: undefined };
    let failure: { err: unknown } | undefined;
    // Log lines written during the operation carry its context; with tracing on it is a span.
    const logContext = (): Record<string, unknown> => ({ op, id, backend: subject.backend, vmid: subject.vmid });
    try {
      return await withLogContext(logContext, () =>
        inSpan(op, { 'berth.op': op, 'berth.container.id': id }, async (span) => {
          try {
            return await fn(subject);
          } finally {
            span.setAttributes({ 'berth.backend': subject.backend, 'berth.vmid': subject.vmid });
          }
        }),
      );
    } catch (err) {
      failure = { err };
      noteErrorContext(err, logContext());
      throw err;
    } finally {
      await this.publish({
        op,
        id,
        backend: subject.backend,
        result: failure ? 'error' : 'ok',
        code: failure ? (failure.err instanceof BerthError ? failure.err.code : 'BERTH_ERR_INTERNAL') : undefined,
        durationS: (performance.now() - t0) / 1000,
        time,
      });
    }
  }

  /**
   * With `journal`, sends this process's operation outcomes and events (storage operations,
   * image cache lookups, backend fallbacks) to <root>/journal. observe() calls it; a verb that
   * publishes events outside an observed operation (an image pull, say) calls it first. Once
   * per process; never fails: a journal that cannot be attached or written is a warning.
   */
  async attachJournal(): Promise<void> {
    if (!this.options.journal) return;
    try {
      const { attachJournal } = await import('../telemetry/journal.js');
      attachJournal(this.stateDir, (err) => void log('warn', `cannot write the operation journal in ${this.stateDir}/journal`, errorFields(err)));
    } catch (err) {
      await log('warn', 'cannot attach the operation journal', errorFields(err));
    }
  }

  /** Never fails the operation. */
  private async publish(outcome: OperationOutcome): Promise<void> {
    const where = { op: outcome.op, id: outcome.id };
    try {
      const { publishOperation } = await import('../core/channels.js');
      publishOperation(outcome);
    } catch (err) {
      await log('warn', 'cannot publish the operation outcome', { ...where, ...errorFields(err) });
    }
  }

  /** The common shape of a guarded verb: lock, check the status, call the backend. */
  private guarded(op: Operation, id: string, act: (backend: Backend, record: ContainerRecord) => Promise<void>): Promise<void> {
    return this.observe(op, id, (subject) => this.guardedQuietly(op, id, act, subject));
  }

  /** guarded, without publishing: for steps of another operation (stop's kill and resume). */
  private guardedQuietly(op: Operation, id: string, act: (backend: Backend, record: ContainerRecord) => Promise<void>, subject?: OperationSubject): Promise<void> {
    return this.withLocked(id, async (record, status) => {
      if (subject) subject.backend = record.backend;
      assertAllowed(op, id, status);
      // The backend is not called when the record of what it did cannot be written after.
      if (WRITES_RECORD.has(op)) assertStateRootWritable(this.options.root, `cannot ${op} container "${id}"`);
      await act(await this.capableBackend(record, op), record);
    });
  }

  /** The record's backend, if it declares it can do `op`. */
  private async capableBackend(record: ContainerRecord, op: Operation): Promise<Backend> {
    const backend = await this.backend(record.backend);
    const needs = REQUIRED_CAPABILITY[op];
    if (needs && !backend.capabilities[needs]) {
      throw new UnsupportedError(`backend ${backend.name} cannot ${op} containers (container "${record.id}")`);
    }
    return backend;
  }

  start(id: string): Promise<void> {
    return this.guarded('start', id, async (backend, record) => {
      await backend.start(id);
      crashPoint('after-backend-start');
      this.store.write({ ...record, started: true });
    });
  }

  kill(id: string, signal: ParsedSignal, all: boolean): Promise<void> {
    return this.guarded('kill', id, (backend) => backend.kill(id, signal, all));
  }

  private killQuietly(id: string, signal: ParsedSignal, all: boolean): Promise<void> {
    return this.guardedQuietly('kill', id, (backend) => backend.kill(id, signal, all));
  }

  pause(id: string): Promise<void> {
    return this.guarded('pause', id, async (backend, record) => {
      await backend.pause(id);
      this.store.write({ ...record, paused: true });
    });
  }

  resume(id: string): Promise<void> {
    return this.guarded('resume', id, resumeAct(this));
  }

  update(id: string, resources: string): Promise<void> {
    return this.guarded('update', id, (backend) => backend.update(id, resources));
  }

  async ps(id: string): Promise<number[]> {
    const record = this.record(id);
    assertAllowed('ps', id, await this.statusOf(record));
    return (await this.capableBackend(record, 'ps')).ps(id);
  }

  /**
   * Sends the image's stop signal (or TERM), waits up to `timeoutS` seconds, then KILLs.
   * Resolves once the container is stopped. The lock is not held while waiting.
   */
  /** `onWait` hears, while stop waits, which signal it sent and for how long it has waited. */
  stop(id: string, timeoutS: number, onWait?: (w: StopWait) => void): Promise<void> {
    return this.observe('stop', id, (subject) => this.stopQuietly(id, timeoutS, subject, onWait));
  }

  private async stopQuietly(id: string, timeoutS: number, subject: OperationSubject, onWait?: (w: StopWait) => void): Promise<void> {
    const record = this.record(id);
    subject.backend = record.backend;
    let status = await this.statusOf(record);
    if (status === 'stopped') return;
    const backend = await this.backend(record.backend);
    if (backend.stop) return backend.stop(id, timeoutS);
    const signal = parseSignal(record.annotations[STOP_SIGNAL_ANNOTATION], 'TERM');
    if (status === 'paused') await this.guardedQuietly('resume', id, resumeAct(this));
    await this.killQuietly(id, signal, false);
    const started = Date.now();
    const deadline = started + timeoutS * 1000;
    while (Date.now() < deadline) {
      if ((status = await this.statusOf(this.record(id))) === 'stopped') return;
      onWait?.({ signal: signal.name, waitedS: (Date.now() - started) / 1000, timeoutS });
      await sleep(20);
    }
    await log('debug', 'stop timeout reached, sending KILL', { op: 'stop', id });
    await this.killQuietly(id, parseSignal('KILL'), true);
    const killStarted = Date.now();
    while ((await this.statusOf(this.record(id))) !== 'stopped') {
      if (Date.now() > killStarted + KILL_WAIT_MS) throw new BackendError(`container "${id}" did not stop within ${KILL_WAIT_MS / 1000} s of SIGKILL`);
      onWait?.({ signal: 'KILL', waitedS: (Date.now() - killStarted) / 1000, timeoutS: KILL_WAIT_MS / 1000 });
      await sleep(20);
    }
  }

  /**
   * Removes a stopped container (with force, any container), in the backend and on disk. A
   * record without a pid is what a killed create left behind: it is cleaned up too.
   */
  delete(id: string, force: boolean): Promise<void> {
    return this.observe('delete', id, (subject) => this.deleteQuietly(id, force, subject));
  }

  private async deleteQuietly(id: string, force: boolean, subject: OperationSubject): Promise<void> {
    this.deleting = id;
    try {
      await this.withLocked(
        id,
        async (record, status) => {
          subject.backend = record.backend;
          if (!force) assertAllowed('delete', id, status);
          assertStateRootWritable(this.options.root, `cannot delete container "${id}"`);
          const backend = await this.backend(record.backend);
          await backend.delete(id, force || status !== 'stopped' || record.pid === undefined);
          await this.removeContainer(record, force);
        },
        { takeOver: force },
      );
    } catch (err) {
      // As runc and crun: `delete --force` of an unknown container succeeds. containerd's shim
      // runs it after every task's delete and logs a warning otherwise.
      if (force && err instanceof ContainerNotFoundError) return (await import('./orphan-volumes.js')).removeOrphanVolume(this, id, err.leftDirectory);
      if (force && err instanceof CorruptRecordError) return (await import('./record-repair.js')).removeUnreadable(this, err);
      throw err;
    }
  }

  exec(req: ExecRequest): Promise<number> {
    return this.observe('exec', req.id, (subject) => this.execQuietly(req, subject));
  }

  private async execQuietly(req: ExecRequest, subject: OperationSubject): Promise<number> {
    if (!req.processFile) assertProgramNamed(req.args, `exec in container "${req.id}"`);
    assertFdsOpen(req.preserveFds);
    const record = this.record(req.id);
    subject.backend = record.backend;
    assertAllowed('exec', req.id, await this.statusOf(record));
    // --env adds to the container's environment (runc's rule; crun would replace it), so the
    // same exec behaves the same on every backend.
    const env = req.env.length > 0 && !req.processFile ? [...containerEnv(record.bundle), ...req.env] : req.env;
    const backend = await this.capableBackend(record, 'exec');
    if (req.stdio && !backend.capabilities.stdio) throw new UnsupportedError(`backend ${backend.name} cannot give an exec in container "${req.id}" a stdio of its own (containerd's FIFOs) yet`);
    return backend.exec({ ...req, env });
  }

  /** The default backend's own features document (or berth's description of it), annotated. */
  async features(): Promise<Record<string, unknown>> {
    const name = this.options.runtimeOverride ?? (await this.config()).default_runtime;
    const own = await (await this.backend(name)).features();
    const base = own ?? builtinFeatures();
    const annotations = { ...((base.annotations as Record<string, string> | undefined) ?? {}), ...berthAnnotations(name) };
    return { ...base, annotations };
  }

  /** A backend's version line, or why it cannot be used. */
  async backendVersion(name: string): Promise<string> {
    try {
      return await (await this.backend(name)).version();
    } catch (err) {
      return `unavailable (${(err as Error).message})`;
    }
  }

  /** Best-effort removal after a failure; the caller's error is what the user must see. */
  async discard(backend: Backend, id: string): Promise<void> {
    try {
      await backend.delete(id, true);
    } catch (err) {
      await log('warn', `could not remove container "${id}" from ${backend.name} after a failure`, { id, ...errorFields(err) });
    }
  }
}

function resumeAct(runtime: Runtime): (backend: Backend, record: ContainerRecord) => Promise<void> {
  return async (backend, record) => {
    await backend.resume(record.id);
    runtime.store.write({ ...record, paused: false });
  };
}

/** process.env from the container's bundle config. */
function containerEnv(bundle: string): string[] {
  try {
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process?: { env?: unknown } };
    const env = config.process?.env;
    return Array.isArray(env) ? env.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
  }
}
