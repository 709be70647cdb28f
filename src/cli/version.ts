import { CONCRETE_BACKENDS } from '../backends/registry.js';
import { BERTH_VERSION, OCI_SPEC_VERSION } from '../core/version.js';
import { noOperands, openRuntime, type VerbContext } from './context.js';

/** `--version` prints only berth's own lines: it must stay cheap. */
export function versionLines(): string {
  return `berth version ${BERTH_VERSION}\nspec: ${OCI_SPEC_VERSION}\n`;
}

/** `version` adds each backend's version, or why it is unavailable (`crun` is only a name for one of them). */
export default async function version(ctx: VerbContext): Promise<void> {
  noOperands(ctx);
  const runtime = await openRuntime(ctx);
  let out = versionLines();
  for (const name of CONCRETE_BACKENDS) out += `${name}: ${await runtime.backendVersion(name)}\n`;
  process.stdout.write(out);
}
