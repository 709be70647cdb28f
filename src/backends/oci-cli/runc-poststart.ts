// runc 1.1.5 runs poststart hooks at create, once the container process exists but before
// start, and a failing one fails the create; the spec has them run after start, a failure being
// a warning (runtime.md, Lifecycle 9). So `runc create` gets its config without them, and berth
// runs them on the host after `runc start`, with the state on stdin (deferred-hooks.ts keeps
// them from create to start). `runc run` (foreground) creates and starts in one call and keeps
// runc's own handling.
import { errorFields, log } from '../../core/log.js';
import { DeferredHooks } from '../deferred-hooks.js';
import { onHost, runOciHooks, type HookState } from '../oci-hooks.js';

export class DeferredPoststart extends DeferredHooks {
  constructor(stateDir: string) {
    super(stateDir, 'poststart', 'runc');
  }

  /** Runs the hooks saved for `id` (none: nothing); failures are warnings, as the spec says. */
  async run(id: string, pid: () => Promise<number | undefined>): Promise<void> {
    const deferred = await this.load(id);
    if (!deferred) return;
    const p = await pid();
    const state: HookState = { ociVersion: deferred.ociVersion, id, status: 'running', ...(p !== undefined ? { pid: p } : {}), bundle: deferred.bundle, annotations: deferred.annotations };
    try {
      await runOciHooks('runc', 'poststart', deferred.hooks, state, onHost);
    } catch (err) {
      await log('warn', `runc: the poststart hooks of "${id}" could not run`, { id, backend: 'runc', ...errorFields(err) });
    }
  }
}
