// Where the lxc backend's programs are: LXC's own tools (Debian's lxc package) and berth's
// helpers, built by scripts/build-lxc-helpers.sh into <repo>/.cache/lxc (or $BERTH_LXC_HELPERS):
// berth-lxc-init (static: the container's first process) and berth-lxc-start (runs a container
// in the foreground through liblxc and exits with its status), berth-lxc-detach and
// berth-lxc-console (exec --detach, exec with a terminal). Detection reports what is missing.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '../../core/errors.js';
import { findRuntimeBinary } from '../oci-cli/binary.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface LxcTools {
  attach: string;
  freeze: string;
  unfreeze: string;
  info: string;
  cgroup: string;
  /** berth-lxc-init: bind-mounted into every container as /.berth-init. */
  init: string;
  /** berth-lxc-start: the container's monitor process. */
  launcher: string;
  /** berth-lxc-detach: starts exec --detach's lxc-attach as an orphan (not berth's child). */
  detach: string;
  /** berth-lxc-console: runs an exec's lxc-attach with a connection to the console socket at a given fd. */
  console: string;
}

export function helpersDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_LXC_HELPERS || join(REPO_ROOT, '.cache/lxc');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** LXC's tools and berth's helpers, or BackendUnavailableError naming what is missing and how to get it. */
export function findLxcTools(env: NodeJS.ProcessEnv = process.env): LxcTools {
  const tool = (name: string): string => {
    try {
      return findRuntimeBinary(name, undefined, env);
    } catch {
      throw new BackendUnavailableError(`LXC is not installed: ${name} not found in PATH (apt-get install lxc, or run scripts/install-deps.sh)`);
    }
  };
  const tools = {
    attach: tool('lxc-attach'),
    freeze: tool('lxc-freeze'),
    unfreeze: tool('lxc-unfreeze'),
    info: tool('lxc-info'),
    cgroup: tool('lxc-cgroup'),
  };
  const dir = helpersDir(env);
  const helper = (name: string): string => {
    const path = join(dir, name);
    if (!executable(path)) throw new BackendUnavailableError(`berth's LXC helper ${path} is missing (build it with scripts/build-lxc-helpers.sh)`);
    return path;
  };
  return { ...tools, init: helper('berth-lxc-init'), launcher: helper('berth-lxc-start'), detach: helper('berth-lxc-detach'), console: helper('berth-lxc-console') };
}

/** Where berth-lxc-init appears inside every container (bind-mounted). */
export const INIT_IN_CONTAINER = '/.berth-init';
/** Where a container's rt/ directory (berth's FIFOs) appears inside it (bind-mounted read-only). */
export const RT_IN_CONTAINER = '/.berth';
