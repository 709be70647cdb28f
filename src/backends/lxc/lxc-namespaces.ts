// linux.namespaces → LXC's keys: new namespaces are lxc.namespace.clone, joined ones
// lxc.namespace.share.TYPE. LXC 5.0 joins through a pid (/proc/PID/ns/TYPE gives the pid) or
// opens an absolute path itself (src/lxc/start.c, lxc_inherit_namespace), so a namespace file
// such as Podman's /run/netns/NAME is passed as it is; the lxc backend checks beforehand that it
// is a namespace of the right type (nsTypeProblems), since LXC's own error says only "failed".
// What LXC cannot join is refused here with the reason (seen with LXC 5.0.2):
// - mount: LXC always makes its own mount namespace;
// - cgroup: LXC unshares a new cgroup namespace after its cgroup setup, whatever it was told;
// - time: liblxc's setns into it fails (EUSERS: the monitor is not single-threaded there).
import { InvalidArgumentError } from '../../core/errors.js';
import type { RuntimeConfig } from '../../core/oci/runtime-config.js';
import { runTool } from '../../core/exec.js';
import type { Builder, Json } from './lxc-builder.js';

/** OCI namespace type → LXC's name for it (as in /proc/PID/ns). */
export const NAMESPACES: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

const CANNOT_JOIN: Record<string, string> = {
  mount: 'LXC cannot join another mount namespace (it always makes its own)',
  cgroup: 'LXC 5.0 cannot join a cgroup namespace (it always makes the container its own); leave the path out for a new one',
  time: 'LXC 5.0 cannot join a time namespace (its setns fails); leave the path out for a new one',
};

export interface Namespaces {
  /** OCI types of new namespaces. */
  cloned: Set<string>;
  /** OCI types of joined namespaces. */
  joined: Set<string>;
}

export function mapNamespaces(b: Builder, linux: Json, spec: RuntimeConfig): Namespaces {
  const list = (linux.namespaces as Json[] | undefined) ?? [];
  const ns: Namespaces = { cloned: new Set(), joined: new Set() };
  list.forEach((n, i) => {
    const type = String(n.type);
    const lxcName = NAMESPACES[type];
    if (!lxcName) throw new InvalidArgumentError(`linux.namespaces[${i}].type: unknown namespace type "${type}"`);
    if (ns.cloned.has(type) || ns.joined.has(type)) throw new InvalidArgumentError(`linux.namespaces[${i}]: namespace "${type}" is listed twice`);
    if (n.path === undefined || n.path === '') {
      ns.cloned.add(type);
      return;
    }
    const path = String(n.path);
    const field = `linux.namespaces[${i}].path`;
    if (CANNOT_JOIN[type]) throw new InvalidArgumentError(`${field}: ${CANNOT_JOIN[type]}`);
    const proc = /^\/proc\/(\d+)\/ns\/([a-z_]+)$/.exec(path);
    if (proc && proc[2] !== lxcName) throw new InvalidArgumentError(`${field}: ${path} is not a ${type} namespace (that is /proc/${proc[1]}/ns/${lxcName})`);
    // LXC takes a value that does not start with "/" as a pid or a container's name.
    if (!path.startsWith('/') || path.split('/').includes('..')) throw new InvalidArgumentError(`${field}: a namespace path must be absolute, without "..", got ${JSON.stringify(path)}`);
    ns.joined.add(type);
    b.add(`lxc.namespace.share.${lxcName}`, proc ? proc[1]! : path, field);
  });
  if (!ns.cloned.has('mount')) throw new InvalidArgumentError('linux.namespaces: LXC always creates a mount namespace; add {"type": "mount"}');
  const order = ['mount', 'pid', 'network', 'ipc', 'uts', 'user', 'cgroup', 'time'];
  b.add('lxc.namespace.clone', order.filter((t) => ns.cloned.has(t)).map((t) => NAMESPACES[t]).join(' '), 'linux.namespaces');
  if (spec.hostname !== undefined && !ns.cloned.has('uts')) {
    throw new InvalidArgumentError('hostname: a hostname needs a new uts namespace (linux.namespaces has none)');
  }
  return ns;
}

/**
 * For every joined namespace: whether its path is a namespace of its type, asked of the kernel
 * (ioctl NS_GET_NSTYPE, through `berth-lxc-start --ns-type PATH...`). Returns one message per
 * bad path, naming the field; empty when all are right.
 */
export async function nsTypeProblems(spec: RuntimeConfig, launcher: string): Promise<string[]> {
  const list = (((spec.linux as Json | undefined)?.namespaces as Json[] | undefined) ?? []).map((n, i) => ({ i, type: String(n.type), path: n.path === undefined ? '' : String(n.path) }));
  const joined = list.filter((n) => n.path !== '');
  if (joined.length === 0) return [];
  const r = await runTool([launcher, '--ns-type', ...joined.map((n) => n.path)]);
  const lines = r.stdout.split('\n');
  if (r.exitCode !== 0 || lines.length < joined.length) throw new Error(`${launcher} --ns-type failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  const problems: string[] = [];
  joined.forEach((n, k) => {
    const got = lines[k]!;
    const want = NAMESPACES[n.type];
    if (got === want) return;
    const what = got.startsWith('error: ') ? got.slice('error: '.length) : `it is a namespace of type ${got}`;
    problems.push(`linux.namespaces[${n.i}].path: ${n.path} is not a ${n.type} namespace: ${what}`);
  });
  return problems;
}
