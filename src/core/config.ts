// berth's configuration. Where it comes from: --config, then $BERTH_CONFIG, then
// /etc/berth/config.toml; no file at all means the defaults (and zod is never loaded).
import { statSync, type Stats } from 'node:fs';
import { InvalidConfigError, errnoCode } from './errors.js';
import { fileKind, readRegularFile } from './regular-file.js';
import type { BerthConfig } from './config-schema.js';

export type { BerthConfig, ProxmoxConfig, RegistriesConfig, RouteRule, StorageConfig } from './config-schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/berth/config.toml';

/** berth's own config is a few lines of TOML: a file larger than this is not one. */
const CONFIG_MAX_BYTES = 1024 * 1024;

/** `--config /dev/null`: the one device taken as a config, an empty one (the defaults). */
const EMPTY_CONFIG = '/dev/null';

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
  const read = path === EMPTY_CONFIG ? { ok: true as const, text: '' } : readRegularFile(path, CONFIG_MAX_BYTES);
  if (!read.ok) {
    if (chosen === undefined && read.problem === 'missing') return { config: defaultConfig(), source: undefined };
    throw new InvalidConfigError(`cannot read config file ${path}${givenBy(explicit, path)}: ${read.problem === 'unreadable' ? read.why : `it ${read.why}`}`, { cause: read.cause });
  }
  const { parseConfig } = await import('./config-schema.js');
  return { config: parseConfig(read.text, path), source: path };
}

/**
 * An explicit --config names a file that must be there for every verb, also for those that
 * never read it (state, list): a typo in the command line is reported, not ignored.
 */
export function assertConfigFileExists(explicit: string): void {
  if (explicit === EMPTY_CONFIG) return;
  let st: Stats;
  try {
    st = statSync(explicit);
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    throw new InvalidConfigError(`cannot read config file ${explicit} (given by --config): ${why}`, { cause: err });
  }
  if (!st.isFile()) throw new InvalidConfigError(`cannot read config file ${explicit} (given by --config): it is ${fileKind(st)}, not a regular file`);
}

function givenBy(explicit: string | undefined, path: string): string {
  if (explicit !== undefined) return ' (given by --config)';
  return path === DEFAULT_CONFIG_PATH ? '' : ' (given by $BERTH_CONFIG)';
}
