// Which backend runs a new container, and why. Order: --runtime flag, the bundle's
// run.berth.runtime annotation, the config's ordered routes, the configured default. The answer
// is recorded with the container; later verbs never route again.
import type { BerthConfig, RouteRule } from '../core/config.js';
import { assertKnownBackend } from '../backends/registry.js';
import { InvalidArgumentError, InvalidBundleError } from '../core/errors.js';
import { RUNTIME_ANNOTATION } from '../core/oci/annotations.js';

export interface RouteDecision {
  backend: string;
  reason: string;
}

export interface RouteInput {
  id: string;
  override: string | undefined;
  annotation: string | undefined;
  config: BerthConfig;
}

export function route(input: RouteInput): RouteDecision {
  const decision = decide(input);
  assertKnownBackend(decision.backend);
  return decision;
}

function decide({ id, override, annotation, config }: RouteInput): RouteDecision {
  if (override === '') throw new InvalidArgumentError('--runtime must name a backend');
  if (annotation === '') throw new InvalidBundleError(`annotation ${RUNTIME_ANNOTATION} must name a backend`);
  if (override) return { backend: override, reason: '--runtime flag' };
  if (annotation) return { backend: annotation, reason: 'bundle annotation run.berth.runtime' };
  for (const [i, rule] of config.routes.entries()) {
    if (matches(rule, id)) {
      const how = rule.id_glob !== undefined ? `id_glob "${rule.id_glob}"` : `id_regex "${rule.id_regex}"`;
      return { backend: rule.runtime, reason: `config route #${i + 1} (${how})` };
    }
  }
  return { backend: config.default_runtime, reason: 'configured default runtime' };
}

export function matches(rule: RouteRule, id: string): boolean {
  if (rule.id_glob !== undefined) return globToRegExp(rule.id_glob).test(id);
  return new RegExp(rule.id_regex ?? '').test(id);
}

/** Shell-style glob over the whole id: `*` any run, `?` one character, `[...]` a class. */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(out + '$', 's');
}
