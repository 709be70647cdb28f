// The Runtime the shim drives for one containerd namespace: the CLI's runtime over the
// namespace's state root, in the long-lived process model (crun resolves to libcrun in-process
// where it can, the crun CLI otherwise, as the router already decides).
import type { ProcessModel } from '../backends/availability.js';
import { Runtime } from '../runtime/runtime.js';

export function shimRuntime(root: string, debug: boolean, processModel: ProcessModel, env: NodeJS.ProcessEnv = process.env): Runtime {
  return new Runtime({
    root,
    debug,
    systemdCgroup: false,
    runtimeOverride: undefined,
    configPath: env.BERTH_CONFIG || undefined,
    processModel,
    journal: true,
  });
}
