// crun-abi: create, start, kill, pause, resume, update and delete through libcrun (in the sealed
// worker, driver.ts); everything else through the crun CLI, on purpose and said so here. Both keep their state in
// <root>/crun, so the CLI sees the containers the library made. Errors read as the crun CLI
// backend's do: `crun <verb> of container "<id>" failed: <libcrun's message>`.
import { readFileSync } from 'node:fs';
import { makeDirIfPossible } from '../../core/state-root.js';
import { join } from 'node:path';
import { BackendError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import type { Backend, BackendSettings, CreateRequest } from '../backend.js';
import { findRuntimeBinary } from '../oci-cli/binary.js';
import { inClientWords } from '../oci-cli/client-wording.js';
import { DeferredStartContainer } from '../oci-cli/start-container-hooks.js';
import { CRUN_OCI_VERSION_MAX, createOciCliBackend } from '../oci-cli/oci-cli-backend.js';
import type { LibcrunFound } from './detect.js';
import { LibcrunCallError, startDriver, type LibcrunDriver } from './driver.js';

/**
 * What goes to the crun CLI, and why. The driver declares the library functions of the 1.8
 * layout only for the lifecycle verbs; these need more than that.
 */
export const DELEGATED_TO_CLI = {
  runForeground: 'foreground run waits for the container and passes signals on: the worker would block in libcrun_container_run',
  exec: 'exec needs libcrun_container_exec_with_options and its process struct (not declared for 1.8), and a process that joins the container belongs in a runtime that re-execs itself sealed: the crun CLI does',
  ps: 'ps lists the pids of the container cgroup (libcrun_container_read_pids is not declared for 1.8)',
  preserveFds: 'create --preserve-fds: the worker holds its IPC channel at fd 3',
  stdio: 'create with the stdio of a shim (its FIFOs): the worker would need the fds passed over its IPC channel',
  handler: 'create of a bundle whose run.oci.handler annotation names a custom handler: the worker has no handler manager',
} as const;

const NOT_FOUND = /does not exist|not found|no such file/i;

export async function createLibcrunBackend(found: LibcrunFound, settings: BackendSettings): Promise<Backend> {
  const stateRoot = join(settings.root, 'crun');
  // Not fatal on a read-only root: kill, state and exec need no new directory (create checks the root first).
  makeDirIfPossible(stateRoot);
  const driver: LibcrunDriver = await startDriver(found);
  // libcrun runs startContainer hooks as the crun CLI does (late, racing poststart): berth runs them (crun-start-hooks.ts).
  const startHooks = new DeferredStartContainer(stateRoot, 'crun', () => findRuntimeBinary('crun', settings.binaryPath, process.env, settings.crunBinaryKey), 'crun-abi');
  let cli: Promise<Backend> | undefined;
  const viaCli = async (what: keyof typeof DELEGATED_TO_CLI): Promise<Backend> => {
    await log('debug', `crun-abi: ${what} through the crun CLI: ${DELEGATED_TO_CLI[what]}`, { backend: 'crun-abi' });
    cli ??= createOciCliBackend('crun', 'crun-cli', settings);
    return cli;
  };

  async function call(verb: string, id: string, op: Parameters<LibcrunDriver['call']>[0], args: Record<string, unknown>): Promise<unknown> {
    try {
      return await driver.call(op, { stateRoot, id, systemdCgroup: settings.systemdCgroup, ...args });
    } catch (err) {
      if (err instanceof LibcrunCallError) throw new BackendError(`crun ${verb} of container "${id}" failed: ${inClientWords(err.message)}`, { cause: err });
      throw err;
    }
  }

  return {
    name: 'crun-abi',
    // Every verb is there: what the library path lacks, the CLI does (DELEGATED_TO_CLI).
    capabilities: { exec: true, pause: true, update: true, ps: true, consoleSocket: true, stdio: true, ociVersionMax: CRUN_OCI_VERSION_MAX },
    async create(req: CreateRequest) {
      if (req.preserveFds > 0) return (await viaCli('preserveFds')).create(req);
      if (req.stdio) return (await viaCli('stdio')).create(req);
      if (namesHandler(req.config)) return (await viaCli('handler')).create(req);
      const config = startHooks.prepare(req.id, req.bundle, req.config);
      await call('create', req.id, 'create', {
        bundle: req.bundle,
        config,
        pidFile: req.pidFile,
        consoleSocket: req.consoleSocket,
        noPivot: req.noPivot,
        noNewKeyring: req.noNewKeyring,
      }).catch((err: unknown) => {
        startHooks.forget(req.id);
        throw err;
      });
      // The init is the worker's child until the worker exits: let it reap it once it dies.
      const pid = Number(readFileSync(req.pidFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) await driver.call('adopt', { pid });
    },
    async start(id) {
      await startHooks.runBeforeStart(id);
      await call('start', id, 'start', {});
      startHooks.forget(id);
    },
    async runForeground(req) {
      return (await viaCli('runForeground')).runForeground(req);
    },
    async kill(id, signal, all) {
      // libcrun takes the signal as a string; a number is one it parses.
      await call('kill', id, 'kill', { signal: String(signal.number), all });
    },
    async delete(id, force) {
      try {
        await call('delete', id, 'delete', { force });
      } catch (err) {
        if (!(err instanceof BackendError && err.cause instanceof LibcrunCallError && NOT_FOUND.test(err.cause.libcrunMsg))) throw err;
      }
      startHooks.forget(id);
    },
    async pause(id) {
      await call('pause', id, 'pause', {});
    },
    async resume(id) {
      await call('resume', id, 'resume', {});
    },
    async update(id, resources) {
      // The OCI LinuxResources JSON, as libcrun_container_update parses it (crun update -r reads the same).
      await call('update', id, 'update', { resources });
    },
    exec: async (req) => (await viaCli('exec')).exec(req),
    ps: async (id) => (await viaCli('ps')).ps(id),
    async version() {
      return `libcrun ${found.version} (${found.path}, ${found.layout.name} layout), worker pid ${driver.pid}`;
    },
    async features() {
      return (await (cli ??= createOciCliBackend('crun', 'crun-cli', settings))).features();
    },
  };
}

function namesHandler(configFile: string): boolean {
  try {
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { annotations?: Record<string, unknown> };
    return config.annotations?.['run.oci.handler'] !== undefined;
  } catch {
    return false; // the library reports an unreadable config itself
  }
}

/** For the benchmark and tests: the state JSON through the library, as `crun state` prints it. */
export async function libcrunState(driver: LibcrunDriver, stateRoot: string, id: string): Promise<string> {
  return (await driver.call('state', { stateRoot, id })) as string;
}
