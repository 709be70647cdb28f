// berth's configuration. Where it comes from: --config, then $BERTH_CONFIG, then
// /etc/berth/config.toml; no file at all means the defaults (and zod is never loaded).
import { readFileSync } from 'node:fs';
import { InvalidConfigError, errnoCode } from './errors.js';
import type { BerthConfig } from './config-schema.js';

export type { BerthConfig, ProxmoxConfig, RouteRule, StorageConfig } from './config-schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/berth/config.toml';

export interface LoadedConfig {
  config: BerthConfig;
  /** The file it came from, or undefined for the built-in defaults. */
  source: string | undefined;
}

export function defaultConfig(): BerthConfig {
  // Literal, so that reading no file never loads zod; the config test keeps it equal to the schema's defaults.
  return { default_runtime: 'crun', routes: [], runtimes: {}, storage: { driver: 'dir', dir: '/var/lib/berth/storage' } };
}

/**
 * `explicit` (from --config) must exist; $BERTH_CONFIG must exist when set; the system-wide
 * file is optional.
 */
export async function loadConfig(explicit: string | undefined, env = process.env): Promise<LoadedConfig> {
  const chosen = explicit ?? env.BERTH_CONFIG;
  const path = chosen ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (chosen === undefined && errnoCode(err) === 'ENOENT') return { config: defaultConfig(), source: undefined };
    throw new InvalidConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const { parseConfig } = await import('./config-schema.js');
  return { config: parseConfig(text, path), source: path };
}
