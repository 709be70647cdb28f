// create and run: the verbs that bring a container into being. Everything is checked before
// the host changes; every change registers its undo, so a failure leaves nothing behind.
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Backend, ContainerStdio, CreateRequest } from '../backends/backend.js';
import { nowIso, sleep } from '../core/clock.js';
import { crashPoint } from '../core/crash-point.js';
import { ContainerExistsError, ContainerNotFoundError, InternalError, UnsupportedError } from '../core/errors.js';
import { validateContainerId } from '../core/ids.js';
import { errorFields, log } from '../core/log.js';
import { RUNTIME_ANNOTATION } from '../core/oci/annotations.js';
import { assertFdsOpen } from '../core/fds.js';
import { assertStateRootWritable } from '../core/state-root.js';
import { executableId, readProcStat } from '../core/proc.js';
import { Revert } from '../core/revert.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { deriveBackendConfig, writeBackendConfig } from './backend-config.js';
import { loadBundle, type Bundle } from './bundle.js';
import { chosenCgroupsPath } from './cgroup-path.js';
import { RECORD_VERSION, type ContainerImage, type ContainerRecord } from './container-store.js';
import { destroyRecordedVolume } from './container-volume.js';
import { removeContainerCgroups } from './container-cgroups.js';
import { recoverPid } from './pid-recovery.js';
import { makeImageBundle, type ImageRequest } from './image-bundle.js';
import { validateOverrides } from './image-spec.js';
import { assertSpecRules } from './spec-rules.js';
import { resolveAuto, route } from './router.js';
import type { OperationSubject, Runtime } from './runtime.js';

export interface CreateOptions {
  id: string;
  /** The bundle directory; unused when the container is made from `image`. */
  bundle: string;
  image: ImageRequest | undefined;
  pidFile: string | undefined;
  consoleSocket: string | undefined;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** The container's stdio as open fds (containerd's FIFOs, opened by the shim); absent: the caller's. */
  stdio?: ContainerStdio;
}

interface Prepared {
  /** The --pid-file the caller gave, if any. */
  callerPidFile: string | undefined;
  backend: Backend;
  record: ContainerRecord;
  request: CreateRequest;
}

/**
 * Validates, routes, takes the lock and writes the intent record (no pid yet), then hands over
 * to `act`, which talks to the backend. On any failure the backend container, the record and
 * the pid file are removed.
 */
async function withNewContainer<T>(runtime: Runtime, opts: CreateOptions, subject: OperationSubject, act: (p: Prepared, revert: Revert) => Promise<T>, startsAtCreate = false): Promise<T> {
  const id = validateContainerId(opts.id);
  // Everything the user gave is checked before the host changes.
  assertFdsOpen(opts.preserveFds);
  assertStateRootWritable(runtime.options.root, `cannot create container "${id}"`);
  const config = await runtime.config();
  const given = opts.image ? undefined : loadBundle(opts.bundle, process.cwd(), config.limits?.config_json_max_bytes);
  if (given) assertSpecRules(given.config, join(given.path, 'config.json'));
  if (opts.image) validateOverrides(opts.image.overrides);
  const decision = await resolveAuto(
    route({
      id,
      override: runtime.options.runtimeOverride,
      annotation: given?.config.annotations?.[RUNTIME_ANNOTATION],
      config,
    }),
    () => runtime.detection(),
    (name) => runtime.backend(name),
    runtime.options.processModel,
  );
  subject.backend = decision.backend;
  const backend = await runtime.backend(decision.backend);
  if (opts.stdio && !backend.capabilities.stdio) throw new UnsupportedError(`backend ${backend.name} cannot give container "${id}" a stdio of its own (containerd's FIFOs) yet: route it to crun or runc`);
  await log('debug', `backend ${decision.backend} chosen: ${decision.reason}`, { op: 'create', id, backend: decision.backend });

  const store = runtime.store;
  const lock = await store.lockForCreate(id);
  const revert = new Revert();
  try {
    const existing = recoverPid(runtime, store.read(id));
    // Whoever made the directory, the first to lock it owns it: a create that finds a live
    // record must not touch it (it may have made the directory, then lost the race to lock).
    if (existing?.pid !== undefined) throw new ContainerExistsError(id);
    if (existing) {
      // A create that was killed before it recorded a pid: clear what it left, then go on.
      await log('info', `removing what an interrupted create of "${id}" left behind`, { op: 'create', id, backend: existing.backend });
      await (await runtime.backend(existing.backend)).delete(id, true);
      await destroyRecordedVolume(runtime, existing, false);
      await removeContainerCgroups(runtime, id, existing);
      store.removeRecord(id);
    }
    revert.add('container directory', () => store.remove(id));
    store.removeStaleTemps(id);

    let bundle: Bundle;
    let image: ContainerImage | undefined;
    let volumes: string[] = [];
    if (given) bundle = given;
    else ({ bundle, image, volumes } = await makeImageBundle(runtime, id, opts.image!, revert, { ownsRootfs: backend.capabilities.ownsRootfs === true }));

    const derived = deriveBackendConfig(bundle, {
      ociVersionMax: backend.capabilities.ociVersionMax,
      // A remote backend's cgroups are its host's (Proxmox names them by VMID).
      cgroupsPath: backend.capabilities.ownsStatus ? undefined : chosenCgroupsPath(runtime.rootId(), id, runtime.options.systemdCgroup),
    });
    // The backend writes the init's pid here. The caller's --pid-file is the backend's own file
    // unless the backend hands the caller another process to wait on (announcePid).
    const callerPidFile = opts.pidFile ? resolve(opts.pidFile) : undefined;
    const pidFile = callerPidFile && !backend.waitablePid ? callerPidFile : join(store.dir(id), 'init.pid');
    const record: ContainerRecord = {
      version: RECORD_VERSION,
      id,
      backend: decision.backend,
      backendReason: decision.reason,
      bundle: bundle.path,
      rootfs: bundle.rootfs,
      created: nowIso(),
      owner: runtime.owner(),
      annotations: bundle.config.annotations ?? {},
      ...(image ? { image } : {}),
      ...(derived.cgroupsPath !== undefined ? { cgroupsPath: derived.cgroupsPath } : {}),
      // Where the backend writes the init's pid: a berth killed before it recorded the pid
      // leaves it there for the next verb (runtime/pid-recovery.ts).
      ...(backend.capabilities.ownsStatus ? {} : { pidFile }),
      // run in the foreground starts the container as it creates it.
      ...(startsAtCreate ? { started: true } : {}),
    };
    store.write(record);
    revert.add('container record', () => store.remove(id));
    const configFile = writeBackendConfig(store.dir(id), derived.config);

    const request: CreateRequest = {
      id,
      bundle: bundle.path,
      config: configFile,
      pidFile,
      consoleSocket: opts.consoleSocket ? resolve(opts.consoleSocket) : undefined,
      noPivot: opts.noPivot,
      noNewKeyring: opts.noNewKeyring,
      preserveFds: opts.preserveFds,
      ...(opts.stdio ? { stdio: opts.stdio } : {}),
      ...(image ? { image: { digest: image.digest, volumes } } : {}),
    };
    revert.add('pid file', () => {
      rmSync(pidFile, { force: true });
      if (callerPidFile) rmSync(callerPidFile, { force: true });
    });
    revert.add(`${backend.name} container`, () => runtime.discard(backend, id));
    const result = await act({ backend, record, request, callerPidFile }, revert);
    revert.commit();
    return result;
  } catch (err) {
    const failures = await revert.run();
    for (const f of failures) await log('warn', `cleanup of ${f.what} failed`, { op: 'create', id, ...errorFields(f.error) });
    throw err;
  } finally {
    lock.release();
  }
}

function readPidFile(path: string): number {
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new InternalError(`pid file ${path} does not hold a pid`);
  return pid;
}

/**
 * The caller's --pid-file after a detached create: the process it must wait on (the backend's
 * waitablePid, else the init). Written only when the backend did not write it itself.
 */
function announcePid(backend: Backend, containerId: string, created: ContainerRecord, backendPidFile: string, callerPidFile: string | undefined): void {
  if (!callerPidFile || callerPidFile === backendPidFile) return;
  const pid = backend.waitablePid?.(containerId) ?? created.pid;
  if (pid !== undefined) writeFileAtomic(callerPidFile, String(pid), 0o644);
}

function withPid(record: ContainerRecord, pid: number): ContainerRecord {
  const initExe = executableId(pid);
  return { ...record, pid, pidStartTime: readProcStat(pid)?.startTime, ...(initExe !== undefined ? { initExe } : {}) };
}

/** The record once the backend has made the container: its pid, or (ownsStatus) the remote mark. */
function createdRecord(backend: Backend, record: ContainerRecord, pidFile: string): ContainerRecord {
  return backend.capabilities.ownsStatus ? { ...record, remote: true } : withPid(record, readPidFile(pidFile));
}

export function createContainer(runtime: Runtime, opts: CreateOptions): Promise<void> {
  return runtime.observe('create', opts.id, (subject) =>
    withNewContainer(runtime, opts, subject, async ({ backend, record, request, callerPidFile }) => {
      crashPoint('before-backend-create');
      await backend.create(request);
      crashPoint('after-backend-create');
      const created = createdRecord(backend, record, request.pidFile);
      runtime.store.write(created);
      announcePid(backend, request.id, created, request.pidFile, callerPidFile);
    }),
  );
}

/** run --detach: create, then start; a failed start removes the container again. */
export function runDetached(runtime: Runtime, opts: CreateOptions): Promise<void> {
  return runtime.observe('run', opts.id, (subject) =>
    withNewContainer(runtime, opts, subject, async ({ backend, record, request, callerPidFile }) => {
      await backend.create(request);
      crashPoint('after-backend-create');
      const created = createdRecord(backend, record, request.pidFile);
      runtime.store.write(created);
      announcePid(backend, request.id, created, request.pidFile, callerPidFile);
      await backend.start(request.id);
      crashPoint('after-backend-start');
      runtime.store.write({ ...created, started: true });
    }),
  );
}

/**
 * run in the foreground: the backend's own `run` keeps the container attached to berth's stdio
 * and hands back its exit code. The record carries the pid while it runs (so state, kill and ps
 * work from other processes) and is removed afterwards, as runc does. The published `run`
 * operation ends when the container has started (or failed to): its exit code is the
 * container's, not berth's.
 */
export async function runForeground(runtime: Runtime, opts: CreateOptions): Promise<number> {
  let exit: Promise<number> | undefined;
  await runtime.observe('run', opts.id, (subject) =>
    withNewContainer(runtime, opts, subject, async ({ backend, record, request, callerPidFile }) => {
      exit = backend.runForeground(request);
      let failed: unknown;
      exit.catch((err) => (failed = err ?? new Error('run failed')));
      // Wait for the pid (or an early failure), record it, then let go of the lock.
      for (;;) {
        if (failed) throw failed;
        let pid: number | undefined;
        try {
          pid = readPidFile(request.pidFile);
        } catch {
          pid = undefined;
        }
        if (pid !== undefined) {
          runtime.store.write({ ...withPid(record, pid), started: true });
          // In the foreground the caller waits on berth itself: its pid file names the init, as runc's.
          if (callerPidFile && callerPidFile !== request.pidFile) writeFileAtomic(callerPidFile, String(pid), 0o644);
          return;
        }
        const settled = await Promise.race([exit.then(() => true, () => true), sleep(5).then(() => false)]);
        if (settled) {
          await exit; // throws the backend's error, if any
          return; // exited before the pid could be read: nothing to record
        }
      }
    }, true),
  );
  const code = await exit!;
  try {
    await runtime.withLocked(opts.id, async (record) => {
      await (await runtime.backend(record.backend)).delete(opts.id, true);
      await runtime.removeContainer(record, true);
    });
  } catch (err) {
    // Someone else (delete --force) removed it while it ran: nothing left to do.
    if (!(err instanceof ContainerNotFoundError)) throw err;
  }
  return code;
}
