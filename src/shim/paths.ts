// Where the shim keeps things: one engine per (containerd address, namespace), its socket named
// by a hash of the pair as containerd names its own shims' (/run/containerd/s/<sha256>), and one
// berth state root per namespace, which `berth --root` reads like any other.
//   <dir>/s/<sha256(address NUL namespace)>      the engine's ttrpc socket
//   <dir>/s/<hash>.pending/<task id>             a start that handed out the address, until Create
//   <dir>/log/<same hash>.log                    the engine's stdout and stderr
//   <dir>/ns/<namespace>                         berth's state root for that namespace's tasks
// <dir> is $BERTH_SHIM_DIR (containerd passes its environment on to shims), else /run/berth-shim.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';

export const DEFAULT_SHIM_DIR = '/run/berth-shim';

/** containerd's own rule for namespace names (namespaces/validate.go), so none escapes <dir>/ns. */
const NAMESPACE = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

export interface ShimPaths {
  dir: string;
  socket: string;
  /** Tasks whose start handed out the socket and whose Create has not come yet. */
  pending: string;
  log: string;
  /** berth's --root for the namespace's containers. */
  root: string;
}

export function shimPaths(address: string, namespace: string, env: NodeJS.ProcessEnv = process.env): ShimPaths {
  if (!NAMESPACE.test(namespace) || namespace.length > 76) throw new UsageError(`invalid containerd namespace "${namespace}"`);
  const dir = env.BERTH_SHIM_DIR || DEFAULT_SHIM_DIR;
  const hash = createHash('sha256').update(`${address}\0${namespace}`).digest('hex');
  return { dir, socket: join(dir, 's', hash), pending: join(dir, 's', `${hash}.pending`), log: join(dir, 'log', `${hash}.log`), root: join(dir, 'ns', namespace) };
}
