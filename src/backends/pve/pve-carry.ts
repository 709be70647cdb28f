// What of the LXC mapping's output (mapOciToLxc, injected) a Proxmox container carries beyond
// the options pve-mapping.ts sets itself: devices as devN where Proxmox has it, everything else
// as raw `lxc.*` keys picked from the mapping by key (no second copy of the mapping). Proxmox
// writes its own LXC config first and appends the raw keys of /etc/pve/lxc/VMID.conf last
// (pve-container's update_lxc_config), so a raw key overrides Proxmox's single-valued keys and
// adds to its lists. The keys that would fight Proxmox's own setup are left out (LEFT_TO_PROXMOX);
// a field the container then does not honour is a degradation, never silent.
import type { RuntimeConfig } from '../../core/oci/runtime-config.js';
import type { PveOptions, RawLxcEntry } from './proxmox.js';

/** Stands for the VMID in raw values until it is known (the mapping runs before anything is made). */
export const VMID_TOKEN = '__BERTH_VMID__';
/** Where Proxmox mounts a container's root volume on the node (lxc.rootfs.path of its config). */
export const PVE_ROOTFS = `/var/lib/lxc/${VMID_TOKEN}/rootfs`;

/** A device node on the node (pct transport only): what is at a host path. */
export interface HostDevice {
  type: 'c' | 'b' | 'other';
  major: number;
  minor: number;
}

export interface CarryInput {
  spec: RuntimeConfig;
  entries: readonly RawLxcEntry[];
  callerIsRoot: boolean;
  /** Proxmox VE ≥ 8.1: it has devN (device passthrough with mode, uid, gid). */
  hasDevOptions: boolean;
  /** What device is at a path of the node; undefined when berth is not on the node. */
  hostDevice?: ((path: string) => HostDevice | undefined) | undefined;
}

export interface Carried {
  options: PveOptions;
  lxc: RawLxcEntry[];
  degradations: { field: string; reason: string }[];
}

/** Keys of the mapping Proxmox sets itself: written again they would break its container. */
export const LEFT_TO_PROXMOX: readonly { prefix: string; why: string }[] = [
  { prefix: 'lxc.rootfs.', why: 'the root is the container\'s Proxmox volume' },
  { prefix: 'lxc.net.', why: 'the network is net0' },
  { prefix: 'lxc.idmap', why: 'an unprivileged container has Proxmox\'s id map' },
  { prefix: 'lxc.autodev', why: 'Proxmox always gives /dev as a tmpfs (autodev)' },
  { prefix: 'lxc.namespace.', why: 'Proxmox gives every container its own namespaces' },
  { prefix: 'lxc.uts.name', why: 'the hostname option' },
  { prefix: 'lxc.pty.max', why: 'Proxmox sets the container\'s ptys and ttys (tty, console options)' },
  { prefix: 'lxc.mount.auto', why: 'Proxmox mounts /proc, /sys and the cgroup tree itself' },
  { prefix: 'lxc.cgroup.dir.', why: 'Proxmox places the container\'s cgroup at lxc/VMID' },
];

/**
 * Raw keys that harden the container where Proxmox's own confinement stands in (its capability
 * drops in an unprivileged user namespace, its AppArmor profile over /proc and /sys, its device
 * allow list). An API token cannot set raw keys: for these the container keeps Proxmox's
 * defaults and the field is a degradation (logged), so that an ordinary bundle (whose spec always
 * has capabilities, rlimits, masked paths …) still runs through the API. Everything else a raw
 * key carries changes what the program sees (seccomp, sysctl, hooks, devices, limits, mounts)
 * and is refused for a token (rootOnlySettings).
 */
const STAND_INS: readonly { field: string; test: (e: RawLxcEntry) => boolean; proxmox: string }[] = [
  { field: 'process.capabilities', test: (e) => e.key.startsWith('lxc.cap.'), proxmox: 'Proxmox\'s capability set (LXC\'s default drops)' },
  { field: 'process.rlimits', test: (e) => e.key.startsWith('lxc.prlimit.'), proxmox: 'the node\'s resource limits' },
  { field: 'process.noNewPrivileges', test: (e) => e.key === 'lxc.no_new_privs', proxmox: 'no no_new_privs flag' },
  { field: 'process.oomScoreAdj', test: (e) => e.key === 'lxc.proc.oom_score_adj', proxmox: 'the default OOM score' },
  { field: 'linux.maskedPaths/readonlyPaths', test: (e) => e.key === 'lxc.mount.entry' && isOptionalEntry(e.value), proxmox: 'Proxmox\'s AppArmor profile and proc:mixed/sys:mixed mounts' },
  { field: 'linux.resources.devices', test: (e) => /^lxc\.cgroup2?\.devices\./.test(e.key), proxmox: 'Proxmox\'s device allow list' },
  { field: 'root.readonly', test: (e) => e.key === 'lxc.hook.mount' && e.value.startsWith('/bin/mount -o remount,bind,ro '), proxmox: 'a writable root' },
];

/** The mapping's mount entries for masked and read-only paths are its only optional ones. */
function isOptionalEntry(value: string): boolean {
  return (value.split(/\s+/)[3] ?? '').split(',').includes('optional');
}

/** cgroup v2 files Proxmox options already carry (memory, swap, cpuunits, cpulimit). */
const AS_OPTIONS = new Set(['lxc.cgroup2.memory.max', 'lxc.cgroup2.memory.swap.max', 'lxc.cgroup2.cpu.weight', 'lxc.cgroup2.cpu.max']);

interface Device {
  path: string;
  type: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export function carryLxcSettings(input: CarryInput): Carried {
  const { spec, entries } = input;
  const proc = spec.process as Record<string, unknown>;
  const linux = (spec.linux ?? {}) as Record<string, unknown>;
  const options: PveOptions = {};
  const lxc: RawLxcEntry[] = [];
  const degradations: Carried['degradations'] = [];
  const pick = (pred: (key: string) => boolean): RawLxcEntry[] => entries.filter((e) => pred(e.key));

  // process.capabilities → lxc.cap.keep. LXC refuses cap.keep next to cap.drop, and Proxmox's
  // config includes LXC's common.conf with an lxc.cap.drop list: an empty lxc.cap.drop clears it.
  // Without the field the container has Proxmox's default set (its own drops).
  if (proc.capabilities !== undefined) {
    const keep = pick((k) => k === 'lxc.cap.keep');
    if (keep.length) lxc.push({ key: 'lxc.cap.drop', value: '' }, ...keep);
  }
  // rlimits, oom_score_adj, no_new_privileges, additional gids: one key each, nothing of Proxmox's.
  lxc.push(...pick((k) => k.startsWith('lxc.prlimit.') || k === 'lxc.proc.oom_score_adj' || k === 'lxc.no_new_privs' || k === 'lxc.init.groups'));
  // AppArmor/SELinux only when the spec names a label: else Proxmox's generated profile stays
  // (the LXC mapping's "unconfined" default would loosen the container).
  if (proc.apparmorProfile !== undefined) lxc.push(...pick((k) => k === 'lxc.apparmor.profile'));
  if (proc.selinuxLabel !== undefined) lxc.push(...pick((k) => k === 'lxc.selinux.context'));
  // linux.seccomp → lxc.seccomp.profile (overrides Proxmox's own profile); the policy file is
  // written on the node by the backend.
  lxc.push(...pick((k) => k === 'lxc.seccomp.profile'));
  lxc.push(...pick((k) => k === 'lxc.arch'));

  // linux.resources: what no option carries, as cgroup v2 keys (pids, io, memory.low, hugetlb …).
  for (const e of pick((k) => k.startsWith('lxc.cgroup2.') || k.startsWith('lxc.cgroup.'))) {
    if (AS_OPTIONS.has(e.key)) continue;
    if (e.key === 'lxc.cgroup2.cpuset.cpus') {
      // cores is a count; the exact CPUs need the raw key (root@pam only).
      if (input.callerIsRoot) lxc.push(e);
      else degradations.push({ field: 'linux.resources.cpu.cpus', reason: `through an API token only the count is carried (cores); Proxmox chooses which CPUs, not ${e.value}` });
      continue;
    }
    lxc.push(e);
  }

  // linux.devices → devN (Proxmox makes the node with the host device's numbers), else the LXC
  // mapping's mknod hook: a FIFO, a Proxmox before 8.1, or a node whose device is not the bundle's.
  const devices = ((linux.devices as Device[] | undefined) ?? []);
  const hooked = new Set<string>();
  let dev = 0;
  for (const d of devices) {
    const type = d.type === 'u' ? 'c' : d.type;
    const host = input.hostDevice?.(d.path);
    const sameOnNode = input.hostDevice === undefined || (host !== undefined && host.type === type && host.major === d.major && host.minor === d.minor);
    if (input.hasDevOptions && (type === 'c' || type === 'b') && sameOnNode) {
      const mode = Number.isInteger(d.fileMode) ? `,mode=0${(d.fileMode as number).toString(8)}` : '';
      options[`dev${dev++}`] = `${d.path}${mode},uid=${Number(d.uid ?? 0)},gid=${Number(d.gid ?? 0)}`;
    } else hooked.add(d.path);
  }
  // After a deny-all the spec's devices must stay usable (runc allows each of linux.devices).
  if (lxc.some((e) => e.key === 'lxc.cgroup2.devices.deny' || e.key === 'lxc.cgroup.devices.deny')) {
    for (const d of devices) {
      const type = d.type === 'u' ? 'c' : d.type;
      if (type === 'c' || type === 'b') lxc.push({ key: 'lxc.cgroup2.devices.allow', value: `${type} ${d.major}:${d.minor} rwm` });
    }
  }

  // Hooks: sysctl writes, OCI hooks, root.readonly and the mknod of devices not in devN. They run
  // on the node (hook paths must exist there) and add to Proxmox's own hooks.
  const isDeviceHook = (v: string): boolean => /&& mknod -m /.test(v);
  for (const e of pick((k) => k.startsWith('lxc.hook.'))) {
    if (isDeviceHook(e.value) && ![...hooked].some((p) => e.value.includes(`"\${LXC_ROOTFS_MOUNT}"'${p.replace(/'/g, `'\\''`)}' `))) continue;
    lxc.push(e);
  }

  // maskedPaths/readonlyPaths: the mapping's optional mount entries (a FIFO or missing path is skipped).
  lxc.push(...pick((k) => k === 'lxc.mount.entry').filter((e) => isOptionalEntry(e.value)));

  // Through an API token: Proxmox's defaults stand in for the hardening keys (see STAND_INS).
  if (!input.callerIsRoot) {
    for (const s of STAND_INS) {
      const left = lxc.filter(s.test);
      if (left.length === 0) continue;
      degradations.push({ field: s.field, reason: `an API token cannot set raw lxc keys (${[...new Set(left.map((e) => e.key))].join(', ')}): the container has ${s.proxmox}; use transport = "pct" for the spec's` });
      for (const e of left) lxc.splice(lxc.indexOf(e), 1);
    }
  }

  // Namespaces Proxmox makes for every container whatever the spec says.
  const listed = new Map(((linux.namespaces as { type: string; path?: string }[] | undefined) ?? []).map((n) => [n.type, n.path]));
  for (const type of ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']) {
    if (!listed.has(type)) degradations.push({ field: 'linux.namespaces', reason: `the spec shares the host's ${type} namespace; Proxmox gives the container its own` });
    else if (listed.get(type)) degradations.push({ field: 'linux.namespaces', reason: `${type} namespace ${listed.get(type)} is not joined; Proxmox gives the container its own` });
  }
  if (listed.has('time')) degradations.push({ field: 'linux.namespaces', reason: 'Proxmox makes no time namespace' });
  if (linux.cgroupsPath !== undefined) degradations.push({ field: 'linux.cgroupsPath', reason: 'Proxmox places the container\'s cgroup at lxc/VMID' });
  return { options, lxc, degradations };
}

/** The raw keys with the VMID in place of VMID_TOKEN (once the container has one). */
export function forVmid(lxc: readonly RawLxcEntry[], vmid: number): RawLxcEntry[] {
  return lxc.map((e) => ({ key: e.key, value: e.value.split(VMID_TOKEN).join(String(vmid)) }));
}
