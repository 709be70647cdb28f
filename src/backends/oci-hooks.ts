// OCI hooks that a backend runs itself, where its engine has none at the spec's moment (lxc:
// startContainer, poststart, poststop; runc 1.1: poststart, which it runs at create). Each hook
// gets the OCI state on stdin; its timeout is enforced.
import { runTool } from '../core/exec.js';
import { log } from '../core/log.js';
import type { RuntimeConfig } from '../core/oci/runtime-config.js';

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface HookState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped';
  pid?: number;
  bundle: string;
  annotations: Record<string, string>;
}

export type HookKind = 'startContainer' | 'poststart' | 'poststop';

/** What runs: the hook's path, then args[1..] (args[0] is the argv[0] it gets: hookArgv0). */
export function hookArgv(h: OciHook): string[] {
  return [h.path, ...(h.args ?? [h.path]).slice(1)];
}

/** args[0], which the spec makes the hook's argv[0] (a multi-call binary such as dockerd's libnetwork-setkey reads it). */
export function hookArgv0(h: OciHook): string {
  return h.args?.[0] ?? h.path;
}

function envObject(env: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/**
 * Runs `hooks` in order with `state` on stdin; `argvFor` says how (on the host: onHost; in the
 * container: through lxc-attach or `<engine> exec`). A hook's `timeout` is enforced (TERM, KILL
 * a second later). Returns the first failure's words: a failing startContainer hook stops
 * the rest (the caller fails start); poststart and poststop failures are warnings, the rest run.
 */
export async function runOciHooks(
  backend: string,
  kind: HookKind,
  hooks: readonly OciHook[],
  state: HookState,
  argvFor: (h: OciHook) => HookCommand,
): Promise<string | undefined> {
  const input = JSON.stringify(state);
  let first: string | undefined;
  for (const [i, h] of hooks.entries()) {
    const { argv, env, argv0 } = argvFor(h);
    const r = await runTool(argv, { input, env, argv0, ...(h.timeout !== undefined ? { timeoutMs: h.timeout * 1000 } : {}) });
    if (r.exitCode === 0) continue;
    const why = r.timedOut ? `timed out after ${h.timeout} s` : (r.stderr.trim().split('\n').pop() || `exit ${r.exitCode ?? r.signal}`);
    const message = `${kind} hook ${i} (${h.path}) failed: ${why}`;
    first ??= message;
    if (kind === 'startContainer') return message;
    await log('warn', `${backend}: ${message}`, { id: state.id, backend });
  }
  return first;
}

export interface HookCommand {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  argv0?: string;
}

/** How a hook runs on the host: its path with args[0] as argv[0], and exactly its env when it gives one. */
export function onHost(h: OciHook): HookCommand {
  return { argv: hookArgv(h), argv0: hookArgv0(h), ...(h.env ? { env: envObject(h.env) } : {}) };
}

/** The bundle's hooks of one kind. */
export function hooksOf(config: RuntimeConfig, kind: HookKind): OciHook[] {
  return (config.hooks as Record<string, OciHook[]> | undefined)?.[kind] ?? [];
}

export function hookState(config: RuntimeConfig, id: string, bundle: string, status: HookState['status'], pid: number | undefined): HookState {
  return { ociVersion: config.ociVersion, id, status, ...(pid !== undefined ? { pid } : {}), bundle, annotations: config.annotations ?? {} };
}

