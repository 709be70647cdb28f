// runc reads <bundle>/config.json and has no flag for another file. When the backend config
// differs from the user's config.json (it usually does: berth sets linux.cgroupsPath), runc is
// given a shadow bundle next to the backend config: that config as config.json, and a symlink to
// every other entry of the user's bundle, so a hook that reads "$bundle/<file>" still finds it.
// The cost, written down in docs/backends.md: runc's state (`runc state`, the state on a hook's
// stdin) names the shadow directory as the bundle. berth's own `state` names the user's bundle.
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { CreateRequest } from '../backend.js';

export const SHADOW_BUNDLE_DIR = 'runc-bundle';

/**
 * The bundle directory to hand runc: the user's when its config.json is the backend config.
 * `adjust` changes the backend config for runc first (runc-poststart.ts takes out poststart).
 */
export function runcBundle(req: Pick<CreateRequest, 'bundle' | 'config'>, adjust: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c): string {
  const backendConfig = adjust(JSON.parse(readFileSync(req.config, 'utf8')) as Record<string, unknown>);
  if (isDeepStrictEqual(readJson(join(req.bundle, 'config.json')), backendConfig)) return req.bundle;
  const shadow = join(dirname(req.config), SHADOW_BUNDLE_DIR);
  rmSync(shadow, { recursive: true, force: true });
  mkdirSync(shadow, { mode: 0o700 });
  writeFileSync(join(shadow, 'config.json'), JSON.stringify(backendConfig, null, 2) + '\n', { mode: 0o600 });
  for (const name of readdirSync(req.bundle)) if (name !== 'config.json') symlinkSync(join(req.bundle, name), join(shadow, name));
  return shadow;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
