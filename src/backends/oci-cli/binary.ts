// Finds an OCI runtime binary: the configured path, else PATH.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BackendUnavailableError } from '../../core/errors.js';

/** The binary a config key names is not there: never a reason to use another backend instead. */
export class ConfiguredBinaryError extends BackendUnavailableError {}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `key` is the config key `configured` came from (crun's binary may be set as runtimes.crun-cli.path
 * or runtimes.crun.path): the message names the one to fix.
 */
export function findRuntimeBinary(name: string, configured: string | undefined, env = process.env, key = `runtimes.${name}.path`): string {
  if (configured !== undefined) {
    if (isExecutableFile(configured)) return configured;
    throw new ConfiguredBinaryError(
      `${name} binary ${configured} (${key} in the berth config) does not exist or is not executable; fix ${key}, or remove it to look ${name} up in PATH`,
    );
  }
  const dirs = (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new BackendUnavailableError(
    `${name} binary not found in PATH; install it with "apt-get install ${name}" or set runtimes.${name}.path in the berth config`,
  );
}
