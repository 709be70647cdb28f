// linux.resources → LXC cgroup keys (v1 or v2 names by the host's cgroup mode), for create and
// for `berth update`.
import { InvalidArgumentError } from '../../core/errors.js';
import { Builder, type Json } from './lxc-builder.js';
import type { LxcMapping, LxcMappingOptions } from './lxc-mapping.js';

/** What runc allows besides the spec's rules, after a deny-all (runc's AllowedDevices). */
const DEFAULT_ALLOWED_DEVICES = ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:9 rwm', 'c 1:8 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 5:1 rwm'];

/** linux.resources alone (for `berth update`): the cgroup keys and the degradations. */
export function mapLxcResources(resources: Record<string, unknown>, cgroupMode: LxcMappingOptions['cgroupMode']): Omit<LxcMapping, 'annotations'> {
  const b = new Builder();
  mapResources(b, { resources }, cgroupMode);
  return { entries: b.entries, degradations: b.degradations };
}

export function mapResources(b: Builder, linux: Json, mode: LxcMappingOptions['cgroupMode']): void {
  const r: Json = (linux.resources as Json | undefined) ?? {};
  const v2 = mode === 'v2';
  const set = (v1Key: string | undefined, v2Key: string | undefined, value: string | number, field: string): void => {
    const key = v2 ? v2Key : v1Key;
    if (key === undefined) {
      b.degrade(field, `no cgroup ${v2 ? 'v2' : 'v1'} equivalent on this host's cgroup layout (${mode})`);
      return;
    }
    b.add(v2 ? `lxc.cgroup2.${key}` : `lxc.cgroup.${key}`, value, field);
  };
  const num = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidArgumentError(`${field} must be an integer`);
    return v;
  };
  const max = (v: number): string => (v < 0 ? 'max' : String(v));
  // runc writes these only when they are not 0: Docker sends blockIO.weight 0 and cpu.shares 0
  // meaning "unset", and the kernel refuses a 0 weight (every Docker create on lxc failed).
  const given = (v: unknown): boolean => v !== undefined && v !== null && v !== 0;

  const mem: Json = r.memory ?? {};
  if (given(mem.limit)) set('memory.limit_in_bytes', 'memory.max', v2 ? max(num(mem.limit, 'linux.resources.memory.limit')) : num(mem.limit, 'linux.resources.memory.limit'), 'linux.resources.memory.limit');
  if (given(mem.reservation)) set('memory.soft_limit_in_bytes', 'memory.low', num(mem.reservation, 'linux.resources.memory.reservation'), 'linux.resources.memory.reservation');
  if (given(mem.swap)) {
    const swap = num(mem.swap, 'linux.resources.memory.swap');
    // OCI's swap is memory + swap (v1's memsw); cgroup v2 limits the swap alone.
    if (v2) {
      if (swap >= 0 && mem.limit === undefined) throw new InvalidArgumentError('linux.resources.memory.swap: on cgroup v2 a swap limit needs memory.limit too');
      set(undefined, 'memory.swap.max', swap < 0 ? 'max' : String(Math.max(0, swap - mem.limit)), 'linux.resources.memory.swap');
    } else set('memory.memsw.limit_in_bytes', undefined, swap, 'linux.resources.memory.swap');
  }
  if (mem.swappiness !== undefined) set('memory.swappiness', undefined, num(mem.swappiness, 'linux.resources.memory.swappiness'), 'linux.resources.memory.swappiness');
  if (mem.disableOOMKiller) set('memory.oom_control', undefined, 1, 'linux.resources.memory.disableOOMKiller');
  for (const k of ['kernel', 'kernelTCP', 'useHierarchy', 'checkBeforeUpdate']) if (mem[k] !== undefined) b.degrade(`linux.resources.memory.${k}`, 'not applied (deprecated or not in LXC)');

  const cpu: Json = r.cpu ?? {};
  if (given(cpu.shares)) {
    const shares = num(cpu.shares, 'linux.resources.cpu.shares');
    // runc's conversion from cgroup v1 shares to the v2 weight.
    set('cpu.shares', 'cpu.weight', v2 ? 1 + Math.floor(((shares - 2) * 9999) / 262142) : shares, 'linux.resources.cpu.shares');
  }
  if (given(cpu.quota) || given(cpu.period)) {
    if (v2) {
      const quota = !given(cpu.quota) ? 'max' : max(num(cpu.quota, 'linux.resources.cpu.quota'));
      set(undefined, 'cpu.max', `${quota} ${!given(cpu.period) ? 100000 : num(cpu.period, 'linux.resources.cpu.period')}`, 'linux.resources.cpu.quota');
    } else {
      // The period first: the kernel checks the quota against it.
      if (given(cpu.period)) set('cpu.cfs_period_us', undefined, num(cpu.period, 'linux.resources.cpu.period'), 'linux.resources.cpu.period');
      if (given(cpu.quota)) set('cpu.cfs_quota_us', undefined, num(cpu.quota, 'linux.resources.cpu.quota'), 'linux.resources.cpu.quota');
    }
  }
  if (given(cpu.realtimeRuntime)) set('cpu.rt_runtime_us', undefined, num(cpu.realtimeRuntime, 'linux.resources.cpu.realtimeRuntime'), 'linux.resources.cpu.realtimeRuntime');
  if (given(cpu.realtimePeriod)) set('cpu.rt_period_us', undefined, num(cpu.realtimePeriod, 'linux.resources.cpu.realtimePeriod'), 'linux.resources.cpu.realtimePeriod');
  for (const [k, file] of [['cpus', 'cpuset.cpus'], ['mems', 'cpuset.mems']] as const) {
    if (cpu[k] === undefined) continue;
    if (!/^[0-9,\-]+$/.test(cpu[k])) throw new InvalidArgumentError(`linux.resources.cpu.${k}: ${JSON.stringify(cpu[k])} is not a cpu list`);
    set(file, file, cpu[k], `linux.resources.cpu.${k}`);
  }
  if (cpu.idle !== undefined) set(undefined, 'cpu.idle', num(cpu.idle, 'linux.resources.cpu.idle'), 'linux.resources.cpu.idle');

  if (given(r.pids?.limit)) {
    const limit = num(r.pids.limit, 'linux.resources.pids.limit');
    set('pids.max', 'pids.max', limit < 0 ? 'max' : limit, 'linux.resources.pids.limit');
  }
  if (given(r.blockIO?.weight)) set('blkio.weight', 'io.weight', num(r.blockIO.weight, 'linux.resources.blockIO.weight'), 'linux.resources.blockIO.weight');
  for (const k of ['leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
    if (r.blockIO?.[k] !== undefined) b.degrade(`linux.resources.blockIO.${k}`, 'not mapped to LXC keys yet');
  }
  if (r.hugepageLimits?.length) b.degrade('linux.resources.hugepageLimits', 'not mapped to LXC keys yet');
  if (r.network !== undefined) b.degrade('linux.resources.network', 'net_cls/net_prio are not mapped');
  if (r.rdma !== undefined) b.degrade('linux.resources.rdma', 'not mapped');
  for (const [k, v] of Object.entries((r.unified as Record<string, string> | undefined) ?? {})) {
    if (!v2) throw new InvalidArgumentError(`linux.resources.unified.${k}: cgroup v2 files cannot be set on a ${mode} cgroup host`);
    if (!/^[a-z_]+\.[a-z_.]+$/.test(k)) throw new InvalidArgumentError(`linux.resources.unified: ${JSON.stringify(k)} is not a cgroup file name`);
    b.add(`lxc.cgroup2.${k}`, v, `linux.resources.unified.${k}`);
  }

  const devices = (r.devices as Json[] | undefined) ?? [];
  let deniedAll = false;
  devices.forEach((d, i) => {
    const field = `linux.resources.devices[${i}]`;
    const type = d.type ?? 'a';
    if (!['a', 'b', 'c'].includes(type)) throw new InvalidArgumentError(`${field}.type must be a, b or c, got ${JSON.stringify(type)}`);
    const access = d.access ?? 'rwm';
    if (!/^[rwm]{1,3}$/.test(access)) throw new InvalidArgumentError(`${field}.access must be made of r, w and m, got ${JSON.stringify(access)}`);
    const id = (n: unknown): string => (n === undefined || n === null || n === -1 ? '*' : String(num(n, field)));
    const rule = type === 'a' ? 'a' : `${type} ${id(d.major)}:${id(d.minor)} ${access}`;
    if (!d.allow && type === 'a') deniedAll = true;
    set(d.allow ? 'devices.allow' : 'devices.deny', d.allow ? 'devices.allow' : 'devices.deny', rule, field);
  });
  if (deniedAll) for (const rule of DEFAULT_ALLOWED_DEVICES) set('devices.allow', 'devices.allow', rule, 'linux.resources.devices');
}

