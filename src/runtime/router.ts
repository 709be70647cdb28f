// Which backend runs a new container, and why. Order: --runtime flag, the bundle's
// run.berth.runtime annotation, the config's ordered routes, the configured default. The answer
// is recorded with the container; later verbs never route again.
import type { BerthConfig, RouteRule } from '../core/config.js';
import { autoCandidates, skippedReasons, type Availability, type HostDetection, type ProcessModel } from '../backends/availability.js';
import { AUTO_BACKEND, assertKnownBackend } from '../backends/registry.js';
import { publishBackendFallback } from '../core/channels.js';
import { BackendUnavailableError, InvalidArgumentError, InvalidBundleError } from '../core/errors.js';
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

/**
 * `crun` (auto) becomes the first usable of crun-abi, crun-cli, runc; the reason says what was
 * chosen and why each earlier one was passed over. `open` really opens a candidate: a library
 * that the detection found but that fails to load (in the worker) is passed over too, with
 * that reason. Any other name is returned as it is (opening it later fails if it is unusable).
 */
export async function resolveAuto(
  decision: RouteDecision,
  detection: HostDetection | (() => Promise<HostDetection>),
  open: (name: string) => Promise<unknown>,
  model: ProcessModel = 'long-lived',
): Promise<RouteDecision> {
  if (decision.backend !== AUTO_BACKEND) return decision;
  const detected = typeof detection === 'function' ? await detection() : detection;
  const skipped: Availability[] = [];
  for (const a of autoCandidates(detected, model)) {
    // A binary path the config sets is what the user wants: a wrong one is an error, never a
    // silent route to the next candidate (0.8.0 sent such containers to runc).
    if (a.problem === 'configured-binary-missing') throw new BackendUnavailableError(`${decision.reason} named crun (auto), and ${a.name} cannot be used: ${a.reason.replace(/^binary missing: /, '')}`);
    if (!a.usable) {
      skipped.push(a);
      continue;
    }
    try {
      await open(a.name);
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      skipped.push({ ...a, usable: false, reason: err.message });
      continue;
    }
    const oneShot = model === 'one-shot' && a.name === 'crun-cli' ? ' (a one-shot command: faster than starting a libcrun worker)' : '';
    const passed = skipped.length > 0 ? `; ${skippedReasons(skipped)}` : '';
    // Not the first choice for this process model: a fallback, counted by the metrics.
    if (skipped[0]) publishBackendFallback({ from: skipped[0].name, to: a.name, reason: skippedReasons(skipped) });
    return { backend: a.name, reason: `${decision.reason} named crun (auto): chose ${a.name}${oneShot}, ${a.reason}${passed}` };
  }
  throw new BackendUnavailableError(`${decision.reason} named crun (auto), and no backend is usable: ${skippedReasons(skipped)}`);
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
