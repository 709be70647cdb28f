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

/** The hook's own argv: its path, then args[1..] (argv[0] is the path: runTool cannot set it). */
export function hookArgv(h: OciHook): string[] {
  return [h.path, ...(h.args ?? [h.path]).slice(1)];
}

function envObject(env: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/**
 * Runs `hooks` in order with `state` on stdin; `argvFor` says how (on the host: hookArgv; in the
 * container: through lxc-attach). A hook's `timeout` is enforced with coreutils' timeout (TERM,
 * KILL a second later). Returns the first failure's words: a failing startContainer hook stops
 * the rest (the caller fails start); poststart and poststop failures are warnings, the rest run.
 */
export async function runOciHooks(
  backend: string,
  kind: HookKind,
  hooks: readonly OciHook[],
  state: HookState,
  argvFor: (h: OciHook) => { argv: string[]; env?: NodeJS.ProcessEnv },
): Promise<string | undefined> {
  const input = JSON.stringify(state);
  let first: string | undefined;
  for (const [i, h] of hooks.entries()) {
    const { argv, env } = argvFor(h);
    const timed = h.timeout !== undefined ? ['timeout', '-k', '1', String(h.timeout), ...argv] : argv;
    const r = await runTool(timed, { input, env });
    if (r.exitCode === 0) continue;
    const why = r.exitCode === 124 && h.timeout !== undefined ? `timed out after ${h.timeout} s` : (r.stderr.trim().split('\n').pop() || `exit ${r.exitCode ?? r.signal}`);
    const message = `${kind} hook ${i} (${h.path}) failed: ${why}`;
    first ??= message;
    if (kind === 'startContainer') return message;
    await log('warn', `${backend}: ${message}`, { id: state.id, backend });
  }
  return first;
}

/** How a hook runs on the host: its argv, and exactly its env when it gives one. */
export function onHost(h: OciHook): { argv: string[]; env?: NodeJS.ProcessEnv } {
  return { argv: hookArgv(h), ...(h.env ? { env: envObject(h.env) } : {}) };
}

/** The bundle's hooks of one kind. */
export function hooksOf(config: RuntimeConfig, kind: HookKind): OciHook[] {
  return (config.hooks as Record<string, OciHook[]> | undefined)?.[kind] ?? [];
}

export function hookState(config: RuntimeConfig, id: string, bundle: string, status: HookState['status'], pid: number | undefined): HookState {
  return { ociVersion: config.ociVersion, id, status, ...(pid !== undefined ? { pid } : {}), bundle, annotations: config.annotations ?? {} };
}

