// runc reads <bundle>/config.json and has no flag for another file. When the backend config
// differs from the user's config.json (it usually does: berth sets linux.cgroupsPath), runc's
// create and run run in a mount namespace of their own (a slave of the host's, so nothing made
// there reaches the host) in which runc's config file is bind-mounted over <bundle>/config.json.
// runc then sees the user's bundle path, and so do its state and every hook's state on stdin, as
// the spec asks (runtime.md, State: bundle). A shadow bundle directory would name itself there.
// The namespace ends with runc: runc keeps the config in its own state for the later verbs.
// The hooks runc runs on the host while in that namespace (prestart, createRuntime, and
// poststart for `run`) must run in the runtime's: each is wrapped in `nsenter` into berth's own
// mount namespace (berth waits for runc, so it is there). Their argv[0] becomes their path.
// One cost: when the bundle is itself the root filesystem (root.path "."), the container sees
// that bind mount at /config.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { CreateRequest } from '../backend.js';

export const RUNC_CONFIG_FILE = 'runc-config.json';

/**
 * A fixed script (no data in it: the paths and runc's argv are its positional parameters):
 * bind-mount $1 over $2, then exec the rest.
 */
const BIND_THEN_EXEC = 'mount --bind -- "$1" "$2" && shift 2 && exec "$@"';

export interface RuncInvocation {
  /** Put before runc's argv: empty when the user's config.json is the config runc needs. */
  prefix: string[];
  bundle: string;
}

/**
 * How to start runc create/run for `req`. `adjust` changes the backend config for runc first
 * (runc-poststart.ts takes out poststart, start-container-hooks.ts startContainer); the result is written next to the backend config.
 */
export function runcInvocation(req: Pick<CreateRequest, 'bundle' | 'config'>, adjust: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c): RuncInvocation {
  const config = adjust(JSON.parse(readFileSync(req.config, 'utf8')) as Record<string, unknown>);
  const userConfig = join(req.bundle, 'config.json');
  if (isDeepStrictEqual(readJson(userConfig), config)) return { prefix: [], bundle: req.bundle };
  const file = join(dirname(req.config), RUNC_CONFIG_FILE);
  writeFileSync(file, JSON.stringify(inRuntimeNamespace(config), null, 2) + '\n', { mode: 0o600 });
  return { prefix: ['unshare', '--mount', '--propagation', 'slave', '--', '/bin/sh', '-c', BIND_THEN_EXEC, 'berth-runc-config', file, userConfig], bundle: req.bundle };
}

/** Hooks runc runs on the host during create/run; poststop runs at delete, outside the namespace. */
const HOST_HOOKS_AT_CREATE = ['prestart', 'createRuntime', 'poststart'] as const;

interface Hook {
  path: string;
  args?: string[];
  [key: string]: unknown;
}

/** The config with its create-time host hooks entered into berth's mount namespace first. */
export function inRuntimeNamespace(config: Record<string, unknown>, pid = process.pid): Record<string, unknown> {
  const hooks = config.hooks as Record<string, Hook[] | undefined> | undefined;
  if (!hooks) return config;
  const wrapped: Record<string, Hook[] | undefined> = { ...hooks };
  for (const kind of HOST_HOOKS_AT_CREATE) {
    wrapped[kind] = hooks[kind]?.map((h) => ({ ...h, path: NSENTER, args: ['nsenter', `--mount=/proc/${pid}/ns/mnt`, '--', h.path, ...(h.args ?? [h.path]).slice(1)] }));
  }
  return { ...config, hooks: wrapped };
}

const NSENTER = '/usr/bin/nsenter';

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
