// crun 1.8.1 and runc 1.1.5 run startContainer hooks in the container's init after `start` has
// returned, so a failing hook cannot fail the start; crun's also race its own poststart hooks
// (the conformance suite saw poststart first) and get status "starting", pid 0 and bundle "/" on
// stdin. So the engine (crun CLI, libcrun, runc) gets its config without them, and berth runs
// each one itself before it starts the container: `<engine> exec` into the created container
// (its namespaces, cgroup and the credentials of its process), with the spec's state on stdin.
// A failing hook kills the container and fails start (runtime.md, Lifecycle 7). A foreground
// `run` creates and starts in one call and keeps the engine's own handling.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BackendError } from '../../core/errors.js';
import { runTool } from '../../core/exec.js';
import { isSameLiveProcess } from '../../core/proc.js';
import { DeferredHooks, deferredOf, withoutHooks, type Deferred } from '../deferred-hooks.js';
import { hookArgv, runOciHooks, type HookState, type OciHook } from '../oci-hooks.js';

/** The config crun is given when startContainer hooks were taken out (beside the backend config). */
export const CRUN_CONFIG_FILE = 'crun-config.json';

type Json = Record<string, unknown>;

/** What of the container's process a hook run in it keeps: who it is and what it may do. */
const PROCESS_CONTEXT = ['user', 'capabilities', 'noNewPrivileges', 'apparmorProfile', 'selinuxLabel'] as const;

interface DeferredStart extends Deferred {
  process: Json;
}

export class DeferredStartContainer extends DeferredHooks<DeferredStart> {
  private seq = 0;

  constructor(
    stateDir: string,
    private readonly tool: 'crun' | 'runc',
    /** The tool's binary, asked for only when there are hooks to run (crun-abi may not need it otherwise). */
    private readonly binary: () => string,
    backend: string,
  ) {
    super(stateDir, 'startContainer', backend);
  }

  /**
   * The config file crun is to create `id` from: `configFile` itself when it has no
   * startContainer hooks, else a copy without them beside it (the hooks are saved for start).
   */
  prepare(id: string, bundle: string, configFile: string): string {
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Json;
    const taken = this.take(id, bundle, config);
    if (taken === config) return configFile;
    const file = join(dirname(configFile), CRUN_CONFIG_FILE);
    writeFileSync(file, JSON.stringify(taken), { mode: 0o600 });
    return file;
  }

  /** `config` without its startContainer hooks (the same object when it has none); they are saved for start. */
  take(id: string, bundle: string, config: Json): Json {
    this.forget(id);
    const split = withoutHooks(config, 'startContainer');
    if (split.hooks.length === 0) return config;
    const proc = (config.process as Json | undefined) ?? {};
    const context = Object.fromEntries(PROCESS_CONTEXT.filter((k) => proc[k] !== undefined).map((k) => [k, proc[k]]));
    this.save(id, { ...deferredOf(config, bundle, split.hooks), process: context });
    return split.config;
  }

  /**
   * Runs the hooks saved for `id` in the created container (none: nothing). A failing one
   * kills the container and throws, so start fails and the program never runs.
   */
  async runBeforeStart(id: string): Promise<void> {
    const deferred = await this.load(id);
    if (!deferred) return;
    const pid = await this.initPid(id);
    const state: HookState = { ociVersion: deferred.ociVersion, id, status: 'created', ...(pid !== undefined ? { pid } : {}), bundle: deferred.bundle, annotations: deferred.annotations };
    const files: string[] = [];
    try {
      const failure = await runOciHooks(this.backend, 'startContainer', deferred.hooks, state, (h) => {
        const file = join(this.stateDir, `.hook-process-${process.pid}-${this.seq++}.json`);
        writeFileSync(file, JSON.stringify(this.hookProcess(h, deferred.process)), { mode: 0o600 });
        files.push(file);
        return { argv: [this.binary(), '--root', this.stateDir, 'exec', `--process=${file}`, id] };
      });
      if (failure === undefined) return;
      await this.kill(id, pid);
      throw new BackendError(`${this.tool} start of container "${id}" failed: ${failure}; the container was killed, its program never ran`);
    } finally {
      for (const f of files) rmSync(f, { force: true });
    }
  }

  /** The process `exec` runs for a hook: the hook's argv and env, the container's credentials. */
  private hookProcess(h: OciHook, context: Json): Json {
    return { user: { uid: 0, gid: 0 }, ...context, args: hookArgv(h), env: h.env ?? [], cwd: '/', terminal: false };
  }

  private async initPid(id: string): Promise<number | undefined> {
    const r = await runTool([this.binary(), '--root', this.stateDir, 'state', id]);
    if (r.exitCode !== 0) return undefined;
    return (JSON.parse(r.stdout) as { pid?: number }).pid;
  }

  /** KILL, then a short wait for the init to be gone, so `state` then says stopped. */
  private async kill(id: string, pid: number | undefined): Promise<void> {
    await runTool([this.binary(), '--root', this.stateDir, 'kill', id, 'KILL']);
    for (let i = 0; i < 50 && pid !== undefined && isSameLiveProcess(pid, undefined); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
