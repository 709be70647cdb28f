// runc 1.1.5 runs poststart hooks at create, once the container process exists but before
// start, and a failing one fails the create; the spec has them run after start, a failure being
// a warning (runtime.md, Lifecycle 9). So `runc create` gets its config without them, and berth
// runs them on the host after `runc start`, with the state on stdin. The hooks wait in a file of
// their own under runc's state directory (<root>/runc/.poststart/<id>) until start or delete.
// `runc run` (foreground) creates and starts in one call and keeps runc's own handling.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../core/errors.js';
import { errorFields, log } from '../../core/log.js';
import { onHost, runOciHooks, type HookState, type OciHook } from '../oci-hooks.js';

interface Deferred {
  hooks: OciHook[];
  ociVersion: string;
  /** The user's bundle, as the spec's state names it. */
  bundle: string;
  annotations: Record<string, string>;
}

type Json = Record<string, unknown>;

/** The config without its poststart hooks, and the hooks it had. */
export function withoutPoststart(config: Json): { config: Json; hooks: OciHook[] } {
  const hooks = (config.hooks as { poststart?: OciHook[] } | undefined)?.poststart ?? [];
  if (hooks.length === 0) return { config, hooks };
  const { poststart: _dropped, ...rest } = config.hooks as Json;
  return { config: { ...config, hooks: rest }, hooks };
}

export class DeferredPoststart {
  constructor(private readonly stateDir: string) {}

  private file(id: string): string {
    return join(this.stateDir, '.poststart', id);
  }

  save(id: string, deferred: Deferred): void {
    mkdirSync(join(this.stateDir, '.poststart'), { recursive: true, mode: 0o700 });
    writeFileSync(this.file(id), JSON.stringify(deferred), { mode: 0o600 });
  }

  forget(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  /** Runs the hooks saved for `id` (none: nothing); failures are warnings, as the spec says. */
  async run(id: string, pid: () => Promise<number | undefined>): Promise<void> {
    let deferred: Deferred;
    try {
      deferred = JSON.parse(readFileSync(this.file(id), 'utf8')) as Deferred;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      await log('warn', `runc: the poststart hooks of "${id}" cannot be read; they do not run`, { id, backend: 'runc', ...errorFields(err) });
      return;
    }
    const p = await pid();
    const state: HookState = { ociVersion: deferred.ociVersion, id, status: 'running', ...(p !== undefined ? { pid: p } : {}), bundle: deferred.bundle, annotations: deferred.annotations };
    try {
      await runOciHooks('runc', 'poststart', deferred.hooks, state, onHost);
    } catch (err) {
      await log('warn', `runc: the poststart hooks of "${id}" could not run`, { id, backend: 'runc', ...errorFields(err) });
    }
  }
}
