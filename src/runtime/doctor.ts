// `berth doctor`: what this host offers berth. The cgroup layout, each backend usable or why
// not, what `crun` (auto) chooses and why, and where libcrun is. The CLI only prints this.
import { readFileSync } from 'node:fs';
import { AUTO_ORDER, pveAvailability, type Availability } from '../backends/availability.js';
import { AUTO_BACKEND } from '../backends/registry.js';
import { BackendUnavailableError } from '../core/errors.js';
import { resolveAuto } from './router.js';
import type { Runtime } from './runtime.js';

export type CgroupMode = 'v2' | 'hybrid' | 'v1' | 'none';
export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface CgroupReport {
  mode: CgroupMode;
  /** Controllers the cgroup2 hierarchy owns (v2 and hybrid). */
  v2Controllers: string[];
  detail: string;
}

export interface Check {
  level: CheckLevel;
  what: string;
  message: string;
}

export interface DoctorReport {
  cgroup: CgroupReport;
  backends: Availability[];
  auto: { backend: string | undefined; reason: string };
  libcrun: {
    path: string | undefined;
    version: string | undefined;
    versionSource: string | undefined;
    layout: string | undefined;
    attempts: Array<{ strategy: string; path: string | undefined; problem: string; reason: string }>;
  };
  /** The pve backend: usable (pct on PATH, or an API URL configured) or why not. */
  pve: { usable: boolean; reason: string };
  checks: Check[];
  status: 'healthy' | 'warnings' | 'failures';
}

/** The filesystem type mounted at each mount point (the last mount there wins). */
function mountTypes(mountinfo: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields[4] === undefined || fields[dash + 1] === undefined) continue;
    types.set(fields[4], fields[dash + 1]!);
  }
  return types;
}

export function cgroupMode(mountinfo: string, readControllers: (dir: string) => string, root = '/sys/fs/cgroup'): CgroupReport {
  const types = mountTypes(mountinfo);
  const controllers = (dir: string): string[] => {
    try {
      return readControllers(`${dir}/cgroup.controllers`).split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  };
  if (types.get(root) === 'cgroup2') {
    return { mode: 'v2', v2Controllers: controllers(root), detail: `${root} is cgroup2 (unified)` };
  }
  const v1 = [...types.values()].some((t) => t === 'cgroup');
  const unified = `${root}/unified`;
  if (v1 && types.get(unified) === 'cgroup2') {
    const owned = controllers(unified);
    return {
      mode: 'hybrid',
      v2Controllers: owned,
      detail: `cgroup v1 controllers under ${root}, cgroup2 at ${unified} owning ${owned.length ? owned.join(', ') : 'no controllers'}`,
    };
  }
  if (v1) return { mode: 'v1', v2Controllers: [], detail: `cgroup v1 controllers under ${root}, no cgroup2` };
  return { mode: 'none', v2Controllers: [], detail: 'no cgroup hierarchy is mounted' };
}

export async function doctor(runtime: Runtime): Promise<DoctorReport> {
  const cgroup = cgroupMode(readFileSync('/proc/self/mountinfo', 'utf8'), (p) => readFileSync(p, 'utf8'));
  const detection = await runtime.detection();
  const backends = AUTO_ORDER.map((n) => ({ ...detection.backends[n] }));
  const checks: Check[] = [];

  if (cgroup.mode === 'hybrid' && cgroup.v2Controllers.length > 0) {
    checks.push({
      level: 'warn',
      what: 'cgroups',
      message: `hybrid cgroups with controllers in cgroup2 (${cgroup.v2Controllers.join(', ')}): crun 1.8 refuses this host; run scripts/prepare-host.sh`,
    });
  } else if (cgroup.mode === 'none') {
    checks.push({ level: 'fail', what: 'cgroups', message: 'no cgroup hierarchy is mounted: no backend can create containers' });
  } else {
    checks.push({ level: 'ok', what: 'cgroups', message: `${cgroup.mode}: ${cgroup.detail}` });
  }

  let auto: DoctorReport['auto'];
  try {
    const d = await resolveAuto({ backend: AUTO_BACKEND, reason: 'doctor' }, detection, (name) => runtime.backend(name), runtime.options.processModel);
    auto = { backend: d.backend, reason: d.reason.replace(/^doctor named crun \(auto\): /, '') };
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    auto = { backend: undefined, reason: err.message };
  }
  // A backend the detection found usable may still fail to open (libcrun that does not load).
  for (const b of backends) {
    let level: CheckLevel = b.usable ? 'ok' : 'warn';
    let message = b.reason;
    if (b.usable && b.name !== auto.backend) {
      try {
        await runtime.backend(b.name);
      } catch (err) {
        if (!(err instanceof BackendUnavailableError)) throw err;
        level = 'warn';
        message = err.message;
        b.usable = false;
        b.reason = err.message;
      }
    }
    checks.push({ level, what: `backend ${b.name}`, message });
  }
  checks.push(
    auto.backend
      ? { level: 'ok', what: 'crun (auto)', message: `chooses ${auto.backend}: ${auto.reason}` }
      : { level: 'fail', what: 'crun (auto)', message: auto.reason },
  );

  // Not a crun candidate and not expected on every host: informational unless it is usable.
  const pve = await pveAvailability((await runtime.config()).proxmox, process.env);
  checks.push({ level: 'ok', what: 'backend pve', message: pve.usable ? `usable: ${pve.reason}` : `not usable here: ${pve.reason}` });

  const found = detection.libcrun.found;
  const status = checks.some((c) => c.level === 'fail') ? 'failures' : checks.some((c) => c.level === 'warn') ? 'warnings' : 'healthy';
  return {
    cgroup,
    backends,
    auto,
    libcrun: {
      path: found?.path,
      version: found?.version,
      versionSource: found?.versionSource,
      layout: found?.layout.name,
      attempts: detection.libcrun.attempts,
    },
    pve,
    checks,
    status,
  };
}

export const DOCTOR_EXIT: Record<DoctorReport['status'], number> = { healthy: 0, warnings: 1, failures: 2 };
