// `berth doctor`: what this host offers berth. The cgroup layout, each backend usable or why
// not, what `crun` (auto) chooses and why, and where libcrun is. The CLI only prints this.
import { hostCgroupMode, type CgroupReport } from '../core/cgroup-mode.js';
import { DETECTED_BACKENDS, type Availability } from '../backends/availability.js';
import { AUTO_BACKEND } from '../backends/registry.js';
import { BackendUnavailableError } from '../core/errors.js';
import { resolveAuto } from './router.js';
import type { Runtime } from './runtime.js';

// The cgroup layout is detected in core (the lxc backend needs it too); doctor reports it.
export { cgroupMode, type CgroupMode, type CgroupReport } from '../core/cgroup-mode.js';

export type CheckLevel = 'ok' | 'warn' | 'fail';

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
  checks: Check[];
  status: 'healthy' | 'warnings' | 'failures';
}

export async function doctor(runtime: Runtime): Promise<DoctorReport> {
  const cgroup = hostCgroupMode();
  const detection = await runtime.detection();
  const backends = DETECTED_BACKENDS.map((n) => ({ ...detection.backends[n] }));
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
    checks,
    status,
  };
}

export const DOCTOR_EXIT: Record<DoctorReport['status'], number> = { healthy: 0, warnings: 1, failures: 2 };
