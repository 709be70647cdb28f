// `create|run --image REF --pull missing|always|never`: whether REF is pulled from its registry
// before the container's volume is made, through the cache's one pull (the pve backend too).
// The default follows what a user of Podman expects for a registry reference (missing), and
// keeps berth's old behaviour for a short name or a layout path (never: the cache or the path).
import { existsSync } from 'node:fs';
import { ImageNotFoundError, UsageError } from '../core/errors.js';
import type { ImageCache } from '../images/index.js';
import { formatReference, namesRegistry, parseReference } from '../images/registry/reference.js';

export const PULL_POLICIES = ['missing', 'always', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export function parsePullPolicy(text: string | undefined): PullPolicy | undefined {
  if (text === undefined) return undefined;
  if (!(PULL_POLICIES as readonly string[]).includes(text)) throw new UsageError(`--pull takes ${PULL_POLICIES.join(', ')}, not "${text}"`);
  return text as PullPolicy;
}

/** The name the cache has REF under, as written or normalized (docker.io/library/…:latest); undefined when not cached. */
async function cachedName(images: ImageCache, ref: string, defaultRegistry: string | undefined): Promise<string | undefined> {
  const names = [ref];
  try {
    names.push(formatReference(parseReference(ref, defaultRegistry)));
  } catch {
    // not a registry reference: only the name as written
  }
  for (const name of names) {
    try {
      await images.resolve(name);
      return name;
    } catch (err) {
      if (!(err instanceof ImageNotFoundError)) throw err;
    }
  }
  return undefined;
}

/** The ref to make the container from: REF itself, its cached name, or the name a pull gave it. */
export async function refForCreate(images: ImageCache, ref: string, policy: PullPolicy | undefined, platform: string | undefined, defaultRegistry: string | undefined): Promise<string> {
  if (policy === undefined && existsSync(ref)) return ref;
  const effective = policy ?? (namesRegistry(ref) ? 'missing' : 'never');
  if (effective === 'always') return (await images.pull(ref, { platform })).name;
  const cached = await cachedName(images, ref, defaultRegistry);
  if (cached !== undefined) return cached;
  if (effective === 'missing') return (await images.pull(ref, { platform })).name;
  if (policy === 'never') throw new ImageNotFoundError(`image "${ref}" is not in the cache and --pull never forbids pulling it: pull it first with: berth image pull ${ref}`);
  return ref; // the default for a short name: the cache's own "not cached" error names import
}
