// OCI runtime config → Proxmox container options (one row per concern; the table with the same
// rows is in docs/backends/proxmox.md and each row has a test). What Proxmox has no option for
// becomes raw `lxc.*` keys, taken from the LXC backend's mapping (injected: mapOciToLxc).
import type { RuntimeConfig } from '../../core/oci/runtime-config.js';
import { InvalidBundleError, UnsupportedError } from '../../core/errors.js';
import type { PveOptions, RawLxcEntry } from './proxmox.js';
import { carryLxcSettings, PVE_ROOTFS, type HostDevice } from './pve-carry.js';

/** The LXC backend's mapping (src/backends/lxc/lxc-mapping.ts), injected to avoid a second copy. */
export type MapOciToLxc = (
  spec: RuntimeConfig,
  options: {
    rootfs: string;
    cgroupMode: 'v1' | 'v2' | 'hybrid';
    initPath: string;
    pathKind?: ((hostPath: string) => 'dir' | 'file' | undefined) | undefined;
    seccompProfile?: string | undefined;
  },
) => { entries: { key: string; value: string }[]; degradations: { field: string; reason: string }[]; seccompPolicy?: string | undefined };

/** Where the seccomp policy goes when the backend does not say (it is refused then: a raw key). */
const DEFAULT_SECCOMP_PROFILE = '/var/lib/berth/pve-seccomp.policy';

/** Annotations that choose the network of net0. */
export const NET_ANNOTATIONS = {
  ip: 'run.berth.pve.net0.ip', // "dhcp" (default), "manual" or an address with prefix, e.g. 10.0.0.5/24
  gw: 'run.berth.pve.net0.gw',
  bridge: 'run.berth.pve.net0.bridge',
  name: 'run.berth.pve.net0.name',
} as const;

export interface PveMappingInput {
  id: string;
  spec: RuntimeConfig;
  /** [proxmox] bridge and unprivileged. */
  bridge: string;
  unprivileged: boolean;
  /** The host is Proxmox VE 9.1 or later: it has the entrypoint and env options. */
  hasOciOptions: boolean;
  /** berth acts as root@pam (pct on the node), not through an API token: it may set root-only options. */
  callerIsRoot: boolean;
  mapOciToLxc: MapOciToLxc;
  /** Proxmox VE ≥ 8.1: devN options. */
  hasDevOptions?: boolean;
  /** berth on the node (pct): what is at a host path of the node (masked paths, devices). */
  pathKind?: (hostPath: string) => 'dir' | 'file' | undefined;
  hostDevice?: (path: string) => HostDevice | undefined;
  /** Node path of the seccomp policy file the backend writes (lxc.seccomp.profile). */
  seccompProfile?: string;
  /** Options an image brings (its Entrypoint/Cmd, Env, …): the user's spec always wins. */
  imageDefaults?: PveOptions;
  /**
   * berth's state root id (core/state-root.ts): in the description and a tag, so that two roots
   * (or two hosts) on one cluster with the same container id can be told apart in Proxmox.
   */
  rootId?: string;
}

export interface PveMapping {
  options: PveOptions;
  lxc: RawLxcEntry[];
  unprivileged: boolean;
  /** What only root@pam may set (bind mounts, raw lxc keys), named for the error. */
  rootOnly: string[];
  degradations: { field: string; reason: string }[];
  /** linux.seccomp in LXC's policy format, for the backend to write at the profile path. */
  seccompPolicy?: string;
}

const MIB = 1024 * 1024;
/** Mounts every LXC container gets anyway. */
const STANDARD_MOUNTS = new Set(['/proc', '/sys', '/sys/fs/cgroup', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']);

interface LinuxSection {
  namespaces?: { type: string; path?: string }[];
  resources?: {
    memory?: { limit?: number; swap?: number };
    cpu?: { quota?: number; period?: number; shares?: number; cpus?: string };
  };
}

export function mapOciToPve(input: PveMappingInput): PveMapping {
  const { spec } = input;
  const linux = (spec.linux ?? {}) as LinuxSection;
  const options: PveOptions = {};
  const lxc: RawLxcEntry[] = [];
  const degradations: { field: string; reason: string }[] = [];

  // hostname
  options.hostname = hostnameFor(spec.hostname, input.id);

  // memory limit → memory (+ swap: OCI's swap is memory+swap)
  const mem = linux.resources?.memory;
  if (mem?.limit !== undefined && mem.limit > 0) {
    options.memory = String(Math.max(16, Math.ceil(mem.limit / MIB)));
    if (mem.swap !== undefined && mem.swap >= mem.limit) options.swap = String(Math.ceil((mem.swap - mem.limit) / MIB));
  }

  // cpu: quota/period → cpulimit, shares → cpuunits (cgroup v2 weight, as crun converts), cpuset → cores
  const cpu = linux.resources?.cpu;
  if (cpu?.quota !== undefined && cpu.quota > 0) {
    const period = cpu.period && cpu.period > 0 ? cpu.period : 100_000;
    options.cpulimit = String(Math.round((cpu.quota / period) * 100) / 100);
  }
  if (cpu?.shares !== undefined && cpu.shares > 0) {
    const shares = Math.min(262_144, Math.max(2, cpu.shares));
    options.cpuunits = String(1 + Math.floor(((shares - 2) * 9999) / 262_142));
  }
  if (cpu?.cpus) options.cores = String(countCpus(cpu.cpus));

  // user namespace → unprivileged (+ the features an unprivileged app container needs)
  const userns = (linux.namespaces ?? []).some((n) => n.type === 'user');
  const unprivileged = userns || input.unprivileged;
  // keyctl lets the container's keyctl(2) work (else ENOSYS from Proxmox's seccomp profile); only
  // root@pam may set it, so through an API token the container has nesting alone.
  if (unprivileged) options.features = input.callerIsRoot ? 'nesting=1,keyctl=1' : 'nesting=1';

  // process → PVE 9.1's entrypoint/env where the host has them, else raw lxc.* keys
  // Proxmox mounts the container's own volume as its root (lxc.rootfs.path is Proxmox's, not
  // taken from here), so the mapping's rootfs only needs to be absolute.
  // The user namespace is Proxmox's to make (unprivileged, with its own idmap): not the mapping's.
  const forLxc: RuntimeConfig = { ...spec, linux: { ...spec.linux, namespaces: (spec.linux?.namespaces ?? []).filter((n) => n.type !== 'user'), uidMappings: undefined, gidMappings: undefined } };
  const raw = input.mapOciToLxc(forLxc, { rootfs: PVE_ROOTFS, cgroupMode: 'v2', initPath: spec.process.args[0]!, pathKind: input.pathKind, seccompProfile: input.seccompProfile ?? DEFAULT_SECCOMP_PROFILE });
  const rawOf = (pred: (key: string) => boolean): RawLxcEntry[] => raw.entries.filter((e) => pred(e.key));
  if (input.hasOciOptions) {
    options.entrypoint = spec.process.args.map(shellQuote).join(' ');
    if (spec.process.env?.length) options.env = spec.process.env.join('\0');
  } else {
    lxc.push(...rawOf((k) => k === 'lxc.init.cmd' || k === 'lxc.execute.cmd'));
    lxc.push(...rawOf((k) => k === 'lxc.environment'));
    if (!lxc.some((e) => e.key === 'lxc.init.cmd' || e.key === 'lxc.execute.cmd')) {
      const why = raw.degradations.find((d) => d.field.startsWith('process.args'));
      throw new UnsupportedError(`this Proxmox VE host (before 9.1) has no entrypoint option and process.args cannot be raw lxc.init.cmd: ${why ? `${why.field} ${why.reason}` : 'the LXC mapping gave none'}`);
    }
  }
  if (spec.process.cwd !== '/') lxc.push(...rawOf((k) => k === 'lxc.init.cwd'));
  const user = spec.process.user;
  if (user && (user.uid !== 0 || user.gid !== 0)) lxc.push(...rawOf((k) => k === 'lxc.init.uid' || k === 'lxc.init.gid'));

  // mounts → mpN (bind mounts), raw lxc.mount.entry (tmpfs); the standard ones LXC makes itself
  let mp = 0;
  for (const m of spec.mounts ?? []) {
    if (STANDARD_MOUNTS.has(m.destination)) continue;
    const opts = m.options ?? [];
    if (m.type === 'bind' || opts.includes('bind') || opts.includes('rbind')) {
      if (!m.source?.startsWith('/')) throw new InvalidBundleError(`mount ${m.destination}: a bind mount needs an absolute source`);
      const ro = opts.includes('ro') ? ',ro=1' : '';
      options[`mp${mp}`] = `${m.source},mp=${m.destination}${ro}`;
      mp++;
    } else if (m.type === 'tmpfs') {
      const dest = m.destination.replace(/^\//, '');
      const entry = raw.entries.find((e) => e.key === 'lxc.mount.entry' && e.value.split(/\s+/)[0] === 'tmpfs' && e.value.split(/\s+/)[1] === dest);
      if (entry) lxc.push(entry);
      else degradations.push({ field: `mounts[${m.destination}]`, reason: 'the LXC mapping gave no lxc.mount.entry for this tmpfs' });
    } else {
      degradations.push({ field: `mounts[${m.destination}]`, reason: `mount type ${m.type ?? '(none)'} has no Proxmox equivalent` });
    }
  }

  // network → net0 from the annotations (the OCI spec says nothing about bridges)
  options.net0 = net0(spec.annotations ?? {}, input.bridge);

  // annotations and the OCI id → description and tags
  options.description = describe(input.id, input.rootId, spec.annotations ?? {});
  options.tags = input.rootId ? `berth;berth-root-${input.rootId}` : 'berth';

  // Everything else the LXC mapping expresses: devN and raw keys (pve-carry.ts).
  const carried = carryLxcSettings({ spec, entries: raw.entries, callerIsRoot: input.callerIsRoot, hasDevOptions: input.hasDevOptions ?? true, hostDevice: input.hostDevice });
  Object.assign(options, carried.options);
  lxc.push(...carried.lxc);
  degradations.push(...carried.degradations, ...raw.degradations);
  // The user's own settings beat what an image brings (Proxmox 9.1's own OCI import gets this wrong).
  const all = { ...(input.imageDefaults ?? {}), ...options };
  const seccomp = lxc.some((e) => e.key === 'lxc.seccomp.profile') && raw.seccompPolicy !== undefined ? { seccompPolicy: raw.seccompPolicy } : {};
  return { options: all, lxc, unprivileged, rootOnly: rootOnlySettings(all, lxc, unprivileged), degradations, ...seccomp };
}

/**
 * What of these settings only root@pam may make, as pve-container's check_ct_modify_config_perm
 * and the create API decide it: a bind mount (a mount point that is a host path), device
 * passthrough, feature flags other than nesting alone (any for a privileged container), a
 * hookscript; and raw lxc.* keys, which the API cannot set at all (only the node's config file).
 */
export function rootOnlySettings(options: PveOptions, lxc: readonly RawLxcEntry[], unprivileged: boolean): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (/^mp\d+$/.test(key) && String(value).split(',')[0]!.startsWith('/')) found.push(`${key} (bind mount of ${String(value).split(',')[0]})`);
    else if (/^dev\d+$/.test(key)) found.push(`${key} (device passthrough)`);
    else if (key === 'hookscript') found.push('hookscript');
    else if (key === 'features') {
      const flags = String(value).split(',').filter(Boolean).map((f) => f.split('='));
      const nestingAlone = flags.length === 1 && flags[0]![0] === 'nesting' && flags[0]![1] !== '0';
      if (!unprivileged || !nestingAlone) found.push(`features ${String(value)}${unprivileged ? ' (only nesting alone is open to API tokens)' : ' (of a privileged container)'}`);
    }
  }
  for (const e of lxc) found.push(e.key);
  return [...new Set(found)];
}

/** A DNS name Proxmox accepts: the spec's hostname, else one made from the id. */
export function hostnameFor(hostname: string | undefined, id: string): string {
  if (hostname !== undefined && hostname !== '') {
    if (!/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(hostname)) {
      throw new InvalidBundleError(`hostname "${hostname}" is not a DNS name Proxmox accepts`);
    }
    return hostname;
  }
  const made = id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return made || 'berth';
}

export function countCpus(cpuset: string): number {
  let n = 0;
  for (const part of cpuset.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) throw new InvalidBundleError(`linux.resources.cpu.cpus "${cpuset}" is not a CPU list such as 0-3,6`);
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return Math.max(1, n);
}

function net0(annotations: Record<string, string>, defaultBridge: string): string {
  const bridge = annotations[NET_ANNOTATIONS.bridge] ?? defaultBridge;
  const name = annotations[NET_ANNOTATIONS.name] ?? 'eth0';
  const ip = annotations[NET_ANNOTATIONS.ip] ?? 'dhcp';
  const gw = annotations[NET_ANNOTATIONS.gw];
  if (!/^[A-Za-z0-9_.-]+$/.test(bridge)) throw new InvalidBundleError(`annotation ${NET_ANNOTATIONS.bridge}: "${bridge}" is not a bridge name`);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new InvalidBundleError(`annotation ${NET_ANNOTATIONS.name}: "${name}" is not an interface name`);
  if (ip !== 'dhcp' && ip !== 'manual' && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(ip)) {
    throw new InvalidBundleError(`annotation ${NET_ANNOTATIONS.ip}: "${ip}" must be dhcp, manual or an IPv4 address with prefix (10.0.0.5/24)`);
  }
  if (gw !== undefined && (ip === 'dhcp' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(gw))) {
    throw new InvalidBundleError(`annotation ${NET_ANNOTATIONS.gw}: "${gw}" needs a static ${NET_ANNOTATIONS.ip} and must be an IPv4 address`);
  }
  return `name=${name},bridge=${bridge},ip=${ip}${gw ? `,gw=${gw}` : ''}`;
}

function describe(id: string, rootId: string | undefined, annotations: Record<string, string>): string {
  const lines = [`berth container ${id}`, ...(rootId ? [`berth root: ${rootId}`] : [])];
  for (const [k, v] of Object.entries(annotations).sort(([a], [b]) => a.localeCompare(b))) lines.push(`${k}: ${v.replace(/\n/g, ' ')}`);
  return lines.join('\n');
}

/** Quotes one argument for the entrypoint string (split like a shell command line). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

