// Reads and checks an OCI bundle before anything on the host changes, so bad input fails
// without leaving a trace.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InvalidBundleError } from '../core/errors.js';
import { readRegularFile } from '../core/regular-file.js';
import { configProblem, type RuntimeConfig } from '../core/oci/runtime-config.js';

export interface Bundle {
  /** Absolute path of the bundle directory. */
  path: string;
  config: RuntimeConfig;
  /** config.json as the user wrote it (every unknown field kept): the source of the backend config. */
  raw: Record<string, unknown>;
  /** Absolute path of the root filesystem. */
  rootfs: string;
}

/**
 * The largest config.json berth reads (`[limits] config_json_max_bytes` in berth's config):
 * runc's default spec is 2.5 KiB, and a config is read whole on every create.
 */
export const DEFAULT_CONFIG_JSON_MAX_BYTES = 4 * 1024 * 1024;

export function loadBundle(bundleArg: string, cwd = process.cwd(), maxConfigBytes = DEFAULT_CONFIG_JSON_MAX_BYTES): Bundle {
  const path = resolve(cwd, bundleArg);
  const dirStat = statOrUndefined(path);
  if (!dirStat) throw new InvalidBundleError(`bundle directory ${path} does not exist`);
  if (!dirStat.isDirectory()) throw new InvalidBundleError(`bundle ${path} is not a directory`);

  const configPath = `${path}/config.json`;
  // A FIFO, a device or a directory is refused before it is opened for reading (a FIFO would
  // block create forever), and so is a file over the limit.
  const read = readRegularFile(configPath, maxConfigBytes);
  if (!read.ok) {
    if (read.problem === 'missing') throw new InvalidBundleError(`bundle ${path} has no config.json`);
    if (read.problem === 'not-regular') throw new InvalidBundleError(`${configPath} ${read.why}: a bundle's config.json must be a regular file`);
    if (read.problem === 'too-large') {
      throw new InvalidBundleError(`${configPath} ${read.why}; raise [limits] config_json_max_bytes in berth's config if it is meant to be that large`);
    }
    throw new InvalidBundleError(`cannot read ${configPath}: ${read.why}`, { cause: read.cause });
  }
  const text = read.text;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidBundleError(`${configPath} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`, { cause: err });
  }
  const problem = configProblem(raw);
  if (problem !== undefined) throw new InvalidBundleError(`${configPath} is not a valid OCI runtime config: ${problem}`);
  const config = raw as RuntimeConfig;

  // config.md: root.path "MAY be either an absolute path or a relative path to the bundle", so
  // "." (the bundle itself) and paths outside it are as valid as runc and crun find them.
  const rootPath = config.root.path;
  const rootfs = isAbsolute(rootPath) ? resolve(rootPath) : resolve(path, rootPath);
  const rule = `root.path is "an absolute path or a relative path to the bundle" (OCI runtime spec, config.md)`;
  const rootStat = statOrUndefined(rootfs);
  if (!rootStat) {
    throw new InvalidBundleError(`root filesystem ${rootfs} (root.path "${rootPath}" in ${configPath}) does not exist: ${rule}; make that directory or set root.path to the root filesystem`);
  }
  if (!rootStat.isDirectory()) {
    throw new InvalidBundleError(`root filesystem ${rootfs} (root.path "${rootPath}" in ${configPath}) is not a directory: set root.path to the directory that holds the root filesystem`);
  }
  return { path, config, raw: raw as Record<string, unknown>, rootfs };
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
