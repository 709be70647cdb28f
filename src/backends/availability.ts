// Which backends this host can use, and why not; and what `crun` (auto) resolves to. Computed
// once per process (per input) and logged at debug level; `berth doctor` shows it.
import type { ProxmoxConfig } from '../core/config.js';
import { BackendUnavailableError } from '../core/errors.js';
import { log } from '../core/log.js';
import { detectLibcrun, whyNoLibcrun, type LibcrunDetection } from './libcrun/detect.js';
import { dirname } from 'node:path';
import { findLxcTools } from './lxc/lxc-tools.js';
import { ConfiguredBinaryError, findRuntimeBinary } from './oci-cli/binary.js';

/** The backends `crun` (auto) chooses from, in order of preference. */
export const AUTO_ORDER = ['crun-abi', 'crun-cli', 'runc'] as const;
export type ConcreteBackend = (typeof AUTO_ORDER)[number] | 'lxc';
/** Every backend detection reports on: the auto candidates, then the others. */
export const DETECTED_BACKENDS: readonly ConcreteBackend[] = [...AUTO_ORDER, 'lxc'];

/**
 * How berth runs: a one-shot command (the CLI: one process per verb, as containerd and people
 * use it) or a long-lived process that runs many operations. libcrun pays off only in the
 * latter: a one-shot command would start a libcrun worker (a sealed copy of Node, ~0.3 s) to
 * save a crun CLI call of ~10 ms (docs/benchmarks.md), so there the crun CLI comes first.
 */
export type ProcessModel = 'one-shot' | 'long-lived';

export function autoOrder(model: ProcessModel): readonly ConcreteBackend[] {
  return model === 'long-lived' ? AUTO_ORDER : ['crun-cli', 'crun-abi', 'runc'];
}

/** `configured-binary-missing`: a binary path in the config names nothing runnable (never passed over by `crun` auto). */
export type Problem = 'not-found' | 'version-unsupported' | 'symbol-missing' | 'load-failed' | 'binary-missing' | 'configured-binary-missing' | 'not-installed';

export interface Availability {
  name: ConcreteBackend;
  usable: boolean;
  /** What it uses when usable (library or binary path), else why it cannot be used. */
  reason: string;
  problem: Problem | undefined;
}

export interface HostDetection {
  libcrun: LibcrunDetection;
  backends: Record<ConcreteBackend, Availability>;
}

export interface DetectionInput {
  env: NodeJS.ProcessEnv;
  /** `libcrun_path` from the config. */
  libcrunPath: string | undefined;
  /** Configured binary paths (runtimes.NAME.path) for crun and runc. */
  crunBinary: string | undefined;
  /** The key crunBinary came from, for messages (default runtimes.crun.path). */
  crunBinaryKey?: string;
  runcBinary: string | undefined;
  cacheDir?: string;
  systemPaths?: readonly string[];
}

function binary(name: ConcreteBackend, tool: 'crun' | 'runc', configured: string | undefined, env: NodeJS.ProcessEnv, key?: string): Availability {
  try {
    return { name, usable: true, reason: `${tool} binary ${findRuntimeBinary(tool, configured, env, key)}`, problem: undefined };
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    return { name, usable: false, reason: `binary missing: ${err.message}`, problem: err instanceof ConfiguredBinaryError ? 'configured-binary-missing' : 'binary-missing' };
  }
}

/** lxc: LXC's tools and berth's two helpers (src/backends/lxc/lxc-tools.ts). */
function lxc(env: NodeJS.ProcessEnv): Availability {
  try {
    const tools = findLxcTools(env);
    return { name: 'lxc', usable: true, reason: `LXC tools (${dirname(tools.info)}), helpers in ${dirname(tools.init)}`, problem: undefined };
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    return { name: 'lxc', usable: false, reason: err.message, problem: /not installed/.test(err.message) ? 'not-installed' : 'binary-missing' };
  }
}

export function detectHost(input: DetectionInput): HostDetection {
  const libcrun = detectLibcrun({ env: input.env, configPath: input.libcrunPath, cacheDir: input.cacheDir, systemPaths: input.systemPaths });
  const crunCli = binary('crun-cli', 'crun', input.crunBinary, input.env, input.crunBinaryKey);
  let abi: Availability;
  if (!libcrun.found) {
    const why = whyNoLibcrun(libcrun);
    abi = { name: 'crun-abi', usable: false, reason: why.reason, problem: why.problem };
  } else if (!crunCli.usable) {
    // crun-abi hands exec, pause, resume, ps, update and foreground run to the crun CLI.
    abi = { name: 'crun-abi', usable: false, reason: `${crunCli.reason} (crun-abi needs it for the verbs it delegates)`, problem: crunCli.problem };
  } else {
    const f = libcrun.found;
    abi = { name: 'crun-abi', usable: true, reason: `libcrun ${f.version} (${f.layout.name} layout) at ${f.path}, found by ${f.strategy}`, problem: undefined };
  }
  return {
    libcrun,
    backends: {
      'crun-abi': abi,
      'crun-cli': crunCli,
      runc: binary('runc', 'runc', input.runcBinary, input.env),
      lxc: lxc(input.env),
    },
  };
}

const cache = new Map<string, HostDetection>();

/** detectHost, once per process for a given input; the result is logged at debug level. */
export function hostDetection(input: DetectionInput): HostDetection {
  const key = JSON.stringify([input.libcrunPath, input.crunBinary, input.crunBinaryKey, input.runcBinary, input.cacheDir, input.systemPaths, input.env.BERTH_LIBCRUN, input.env.BERTH_LIBCRUN_CACHE, input.env.BERTH_LXC_HELPERS, input.env.PATH]);
  let d = cache.get(key);
  if (!d) {
    d = detectHost(input);
    cache.set(key, d);
    for (const a of Object.values(d.backends)) {
      void log('debug', `backend ${a.name} ${a.usable ? 'usable' : 'unusable'}: ${a.reason}`, { op: 'detect', backend: a.name });
    }
  }
  return d;
}

/** The backends `crun` may resolve to, in order, each with its availability. */
export function autoCandidates(d: HostDetection, model: ProcessModel = 'long-lived'): Availability[] {
  return autoOrder(model).map((n) => d.backends[n]);
}

/** Why `crun` (auto) passes over the backends before `name`: one clause per skipped backend. */
export function skippedReasons(skipped: readonly Availability[]): string {
  return skipped.map((a) => `${a.name} not usable (${a.reason})`).join('; ');
}

/**
 * Whether the pve backend can be used here, and why not: it needs `pct` on PATH (a Proxmox VE
 * node) or an API URL in [proxmox]. Kept apart from detectHost: it is not a crun candidate.
 */
export async function pveAvailability(proxmox: ProxmoxConfig | undefined, env: NodeJS.ProcessEnv): Promise<{ usable: boolean; reason: string }> {
  const { chooseTransport, proxmoxDefaults } = await import('./pve/pve-settings.js');
  const choice = chooseTransport(proxmox ?? proxmoxDefaults(), env);
  return { usable: choice.transport !== undefined, reason: choice.reason };
}
