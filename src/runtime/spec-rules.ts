// Rules of the runtime spec that berth checks itself before any backend runs, where an engine
// does not (crun 1.8.1 takes a namespace type listed twice; an empty process.args[0] reaches
// execve and comes back as "Operation not permitted"). Each message quotes the rule.
import { InvalidArgumentError, InvalidBundleError } from '../core/errors.js';
import type { RuntimeConfig } from '../core/oci/runtime-config.js';

/** config.md, Process, args: what the first entry is. */
export const ARGS_RULE =
  'config.md, Process: "at least one entry is REQUIRED, and that entry is used with the same semantics as execvp\'s file"';

/** Throws InvalidBundleError for a config that breaks one of these rules. */
export function assertSpecRules(config: RuntimeConfig, configPath: string): void {
  const program = config.process?.args?.[0];
  if (program === '') {
    throw new InvalidBundleError(`${configPath}: process.args[0] is empty, so it names no program to run; ${ARGS_RULE}`);
  }
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

/** The same rule for a command given on the command line (exec ID CMD, create --image ... -- CMD). */
export function assertProgramNamed(args: readonly string[], where: string): void {
  if (args[0] === '') throw new InvalidArgumentError(`${where}: the program to run is an empty string; ${ARGS_RULE}`);
}
