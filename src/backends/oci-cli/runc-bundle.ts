// runc reads <bundle>/config.json and has no flag for another file. When the backend config
// differs from the user's config.json (it usually does: berth sets linux.cgroupsPath), runc's
// create and run run in a mount namespace of their own (a slave of the host's, so nothing made
// there reaches the host) in which runc's config file is bind-mounted over <bundle>/config.json.
// runc then sees the user's bundle path, and so do its state and every hook's state on stdin, as
// the spec asks (runtime.md, State: bundle). A shadow bundle directory would name itself there.
// The namespace ends with runc: runc keeps the config in its own state for the later verbs.
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
 * (runc-poststart.ts takes out poststart); the result is written next to the backend config.
 */
export function runcInvocation(req: Pick<CreateRequest, 'bundle' | 'config'>, adjust: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c): RuncInvocation {
  const config = adjust(JSON.parse(readFileSync(req.config, 'utf8')) as Record<string, unknown>);
  const userConfig = join(req.bundle, 'config.json');
  if (isDeepStrictEqual(readJson(userConfig), config)) return { prefix: [], bundle: req.bundle };
  const file = join(dirname(req.config), RUNC_CONFIG_FILE);
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return { prefix: ['unshare', '--mount', '--propagation', 'slave', '--', '/bin/sh', '-c', BIND_THEN_EXEC, 'berth-runc-config', file, userConfig], bundle: req.bundle };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
