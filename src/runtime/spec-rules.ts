// Rules of the runtime spec that berth checks itself before any backend runs, where an engine
// does not (crun 1.8.1 takes a namespace type listed twice). Each message quotes the rule.
import { InvalidBundleError } from '../core/errors.js';
import type { RuntimeConfig } from '../core/oci/runtime-config.js';

/** Throws InvalidBundleError for a config that breaks one of these rules. */
export function assertSpecRules(config: RuntimeConfig, configPath: string): void {
  const namespaces = (config.linux as { namespaces?: Array<{ type?: unknown }> } | undefined)?.namespaces ?? [];
  const seen = new Set<unknown>();
  for (const [i, ns] of namespaces.entries()) {
    if (seen.has(ns.type)) {
      throw new InvalidBundleError(
        `${configPath}: linux.namespaces[${i}] lists type ${JSON.stringify(ns.type)} again; config-linux.md, Namespaces: "If namespaces contains duplicate namespace types, the runtime MUST generate an error"`,
      );
    }
    seen.add(ns.type);
  }
}
