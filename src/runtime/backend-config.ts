// The backend config: what a backend is given in place of the user's config.json. It is the
// user's JSON object as written (every unknown field kept; never zod's output), with only what a
// backend needs changed: root.path absolute, relative bind-mount sources absolute, ociVersion
// lowered for a backend that refuses newer ones, linux.cgroupsPath defaulted to berth's choice.
// It lives in the container's state directory and goes with it.
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { Bundle } from './bundle.js';

export const BACKEND_CONFIG_FILE = 'backend-config.json';

export interface BackendConfigOptions {
  /** The highest ociVersion the backend accepts (BackendCapabilities.ociVersionMax). */
  ociVersionMax: string | undefined;
  /** linux.cgroupsPath to set when the bundle has none; undefined: leave it unset. */
  cgroupsPath: string | undefined;
}

export interface BackendConfig {
  config: Record<string, unknown>;
  /** linux.cgroupsPath the backend gets: the bundle's own, or berth's choice. */
  cgroupsPath: string | undefined;
}

type Json = Record<string, unknown>;

export function deriveBackendConfig(bundle: Bundle, opts: BackendConfigOptions): BackendConfig {
  const config = structuredClone(bundle.raw);
  // Relative paths are relative to the bundle; absolute ones read the same from any directory
  // (libcrun's working directory, lxc's and Proxmox's configs).
  config.root = { ...(config.root as Json), path: bundle.rootfs };
  if (Array.isArray(config.mounts)) {
    config.mounts = (config.mounts as Json[]).map((m) => {
      const source = m.source;
      const bind = m.type === 'bind' || (Array.isArray(m.options) && m.options.some((o) => o === 'bind' || o === 'rbind'));
      return bind && typeof source === 'string' && source !== '' && !isAbsolute(source) ? { ...m, source: resolve(bundle.path, source) } : m;
    });
  }
  if (opts.ociVersionMax && minorAbove(String(config.ociVersion), opts.ociVersionMax)) config.ociVersion = opts.ociVersionMax;
  const linux = (config.linux as Json | undefined) ?? undefined;
  let cgroupsPath = typeof linux?.cgroupsPath === 'string' ? linux.cgroupsPath : undefined;
  if (cgroupsPath === undefined && opts.cgroupsPath !== undefined) {
    cgroupsPath = opts.cgroupsPath;
    config.linux = { ...(linux ?? {}), cgroupsPath };
  }
  return { config, cgroupsPath };
}

/** Writes it into the container's directory; returns the file's path. */
export function writeBackendConfig(containerDir: string, config: Record<string, unknown>): string {
  const path = join(containerDir, BACKEND_CONFIG_FILE);
  writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n', 0o600);
  return path;
}

/** Whether `version` (1.x.y) has a higher major.minor than `max`. */
function minorAbove(version: string, max: string): boolean {
  const [va = 0, vb = 0] = version.split('.').map((n) => parseInt(n, 10));
  const [ma = 0, mb = 0] = max.split('.').map((n) => parseInt(n, 10));
  return va > ma || (va === ma && vb > mb);
}
