// Finds an OCI runtime binary: the configured path, else PATH.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BackendUnavailableError } from '../../core/errors.js';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findRuntimeBinary(name: string, configured: string | undefined, env = process.env): string {
  if (configured !== undefined) {
    if (isExecutableFile(configured)) return configured;
    throw new BackendUnavailableError(
      `${name} binary ${configured} (runtimes.${name}.path in the berth config) does not exist or is not executable`,
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
