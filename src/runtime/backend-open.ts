// Opening a backend from the config: the settings each backend gets, the config's backend
// names checked against the registry, and a span around each backend call when tracing is on.
import type { Backend, BackendSettings } from '../backends/backend.js';
import { didYouMean } from '../core/suggest.js';
import { BACKEND_NAMES } from '../backends/registry.js';
import type { BerthConfig } from '../core/config.js';
import { InvalidConfigError } from '../core/errors.js';
import { inSpan, tracingActive } from '../core/tracing.js';
import type { RuntimeOptions } from './runtime.js';

const TRACED_METHODS = ['create', 'start', 'runForeground', 'kill', 'delete', 'pause', 'resume', 'exec', 'ps', 'update'] as const;

/**
 * With tracing on, each call into a backend is a span `backend.<method>`; without it the
 * backend is returned as it is.
 */
export function tracedBackend(backend: Backend): Backend {
  if (!tracingActive()) return backend;
  const traced = new Set<PropertyKey>(TRACED_METHODS);
  return new Proxy(backend, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (!traced.has(prop)) return method.bind(target);
      return (...args: unknown[]) => inSpan(`backend.${String(prop)}`, { 'berth.backend': target.name }, () => method.apply(target, args));
    },
  });
}

/** What a backend is opened with. crun-abi, crun-cli and legacy `crun` share crun's binary. */
export function backendSettings(options: RuntimeOptions, stateDir: string, config: BerthConfig, name: string): BackendSettings {
  const crunCliPath = config.runtimes['crun-cli']?.path;
  const crunBinary = crunCliPath ?? config.runtimes.crun?.path;
  return {
    root: stateDir,
    debug: options.debug,
    systemdCgroup: options.systemdCgroup,
    binaryPath: name === 'runc' ? config.runtimes.runc?.path : crunBinary,
    libcrunPath: config.libcrun_path,
    crunBinaryPath: crunBinary,
    crunBinaryKey: crunCliPath !== undefined ? 'runtimes.crun-cli.path' : 'runtimes.crun.path',
    runcBinaryPath: config.runtimes.runc?.path,
    proxmox: config.proxmox,
  };
}

/** A config that names a backend berth does not have is an error, wherever the name stands. */
export function assertConfigNamesKnown(config: BerthConfig, source: string | undefined): void {
  const named = [
    ['default_runtime', config.default_runtime],
    ...config.routes.map((r, i) => [`routes.${i}.runtime`, r.runtime]),
    ...Object.keys(config.runtimes).map((name) => [`runtimes.${name}`, name]),
  ] as const;
  for (const [where, name] of named) {
    if (!BACKEND_NAMES.includes(name)) {
      throw new InvalidConfigError(`config file ${source ?? '(defaults)'}: ${where} names unknown backend "${name}" (known backends: ${BACKEND_NAMES.join(', ')})${didYouMean(name, BACKEND_NAMES)}`);
    }
  }
}
