// The OCI hooks the lxc backend runs itself, where LXC has no hook at the spec's moment:
// startContainer (in the container, at start, before the program: LXC's start hook runs at
// create), poststart (on the host after the program started) and poststop (on the host at
// delete: LXC's post-stop runs when the container stops). The running is oci-hooks.ts's; here
// is what only LXC needs.
import { hookArgv, type OciHook } from '../oci-hooks.js';
import type { RuntimeConfig } from '../../core/oci/runtime-config.js';

/** The init's pid as the container sees it (hooks in the container get that one): 1 in a new pid namespace. */
export function containerPid(config: RuntimeConfig, hostPid: number): number {
  const namespaces = (config.linux as { namespaces?: Array<{ type: string; path?: string }> } | undefined)?.namespaces ?? [];
  return namespaces.some((n) => n.type === 'pid' && !n.path) ? 1 : hostPid;
}

/**
 * A hook run in the container: lxc-attach (`attach`: its argv up to `--`) and berth's init,
 * which sets exactly the hook's env and execs its path, resolved in the container.
 */
export function attachArgv(attach: string[], init: string, h: OciHook, encode: (arg: string) => string): string[] {
  const initArgs = ['--cwd', '/', ...(h.env ?? []).flatMap((e) => ['--env', e]), '--', ...hookArgv(h)];
  return [...attach, '--', init, ...initArgs.map(encode)];
}
