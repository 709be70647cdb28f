// `berth doctor`: what this host offers berth. The cgroup layout, each backend usable or why
// not, what `crun` (auto) chooses and why, and where libcrun is. The CLI only prints this.
import { readableRecords, volumeReports, type VolumeReport } from './container-volume.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostCgroupMode, type CgroupReport } from '../core/cgroup-mode.js';
import { DETECTED_BACKENDS, pveAvailability, type Availability } from '../backends/availability.js';
import { AUTO_BACKEND } from '../backends/registry.js';
import { BackendUnavailableError, errnoCode } from '../core/errors.js';
import { formatSize } from '../core/sizes.js';
import { resolveAuto } from './router.js';
import { crashResidue, type Residue } from './crash-repair.js';
import { layoutCheck } from './root-layout.js';
import type { BerthConfig, StorageConfig } from '../core/config.js';
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
  storage: StorageReport;
  state: StateReport;
  /** This root's containers whose volume is missing, unmounted, not theirs or unreachable. */
  volumes: VolumeReport[];
  journal: JournalHealth;
  /** What killed berths left in this root (with --repair: and what became of it). */
  residue: Residue[];
  /**
   * Proxmox VE: whether the pve backend is configured here (pct on PATH, or an API URL), and if
   * so whether the node answers (its version), else why not.
   */
  proxmox: { configured: boolean; reachable: boolean | undefined; message: string };
  checks: Check[];
  status: 'healthy' | 'warnings' | 'failures';
}

export interface StorageReport {
  driver: string;
  /** The zfs dataset or the dir driver's directory. */
  location: string;
  usedBytes: number | undefined;
  availableBytes: number | undefined;
  problem: string | undefined;
}

export interface StateReport {
  root: string;
  exists: boolean;
  writable: boolean;
  /** Why it is not writable (read-only file system, permissions), when it is not. */
  notWritable?: string;
  containers: number;
  /** Container ids whose record cannot be read or parsed. */
  unreadable: string[];
}

export interface JournalHealth {
  dir: string;
  segments: number;
  bytes: number;
  records: number;
  /** Lines that are not records: torn by a crash, or damaged. */
  corruptLines: number;
  problem: string | undefined;
}

/** Below this share of free space in storage, doctor warns. */
const LOW_SPACE_RATIO = 0.05;

/** How long doctor waits for a Proxmox node to say its version. */
const PROXMOX_PROBE_MS = 5_000;

async function proxmoxReport(runtime: Runtime, config: BerthConfig['proxmox']): Promise<DoctorReport['proxmox']> {
  const pve = await pveAvailability(config, process.env);
  if (!pve.usable) return { configured: false, reachable: undefined, message: `not configured: ${pve.reason}` };
  let timer: NodeJS.Timeout | undefined;
  try {
    const version = await Promise.race([
      runtime.backend('pve').then((b) => b.version()),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PROXMOX_PROBE_MS / 1000} s`)), PROXMOX_PROBE_MS))),
    ]);
    return { configured: true, reachable: true, message: `reachable (${pve.reason}): ${version}` };
  } catch (err) {
    return { configured: true, reachable: false, message: `configured (${pve.reason}) but not reachable: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The host's and this root's health; with `repair`, what killed berths left is repaired first (crash-repair.ts). */
export async function doctor(runtime: Runtime, opts: { repair?: boolean } = {}): Promise<DoctorReport> {
  const cgroup = hostCgroupMode();
  const detection = await runtime.detection();
  const backends = DETECTED_BACKENDS.map((n) => ({ ...detection.backends[n] }));
  const checks: Check[] = [];

  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0) {
    checks.push({ level: 'warn', what: 'user', message: `running as uid ${uid}, not root: every verb that makes, changes or reads containers needs root (run it with sudo); what follows is what this user can see` });
  }

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

  const config = await runtime.config();
  const storage = await storageReport(config.storage);
  if (storage.problem) checks.push({ level: 'fail', what: 'storage', message: `${storage.driver} at ${storage.location}: ${storage.problem}` });
  else if (storage.availableBytes === undefined) checks.push({ level: 'ok', what: 'storage', message: `${storage.driver} at ${storage.location}: does not exist yet (made on first use)` });
  else {
    const total = (storage.usedBytes ?? 0) + storage.availableBytes;
    const low = total > 0 && storage.availableBytes / total < LOW_SPACE_RATIO;
    checks.push({
      level: low ? 'warn' : 'ok',
      what: 'storage',
      message: `${storage.driver} at ${storage.location}: ${formatSize(storage.availableBytes)} free, berth's volumes use ${formatSize(storage.usedBytes ?? 0)}${low ? ' (less than 5% free)' : ''}`,
    });
  }

  const state = stateReport(runtime);
  if (!state.exists) checks.push({ level: 'ok', what: 'state', message: `${state.root} holds no berth state yet (made by the first create)` });
  else if (!state.writable) {
    checks.push({ level: 'fail', what: 'state', message: `${state.root} is not writable (${state.notWritable ?? 'not a directory'}): no container can be created, started or deleted; state, list, kill, ps and exec still work` });
  }
  else if (state.unreadable.length > 0) checks.push({ level: 'warn', what: 'state', message: `${state.unreadable.length} of ${state.containers} container records cannot be read: ${state.unreadable.slice(0, 5).join(', ')}` });
  else checks.push({ level: 'ok', what: 'state', message: `${state.root}: writable, ${count(state.containers, 'container record')} readable` });

  const records = state.exists ? readableRecords(runtime) : [];
  const reports = [...(await volumeReports(runtime, records)).values()];
  const volumes = reports.filter((r) => r.problem !== undefined);
  if (volumes.length > 0) {
    for (const v of volumes) checks.push({ level: 'warn', what: 'volumes', message: `container "${v.id}": ${v.problem}` });
  } else checks.push({ level: 'ok', what: 'volumes', message: `${count(reports.length, 'container volume')} of this root present and mounted` });

  const residue = state.exists && state.writable ? await crashResidue(runtime, { repair: opts.repair === true, storage: storage.problem === undefined && storage.availableBytes !== undefined }) : [];
  for (const r of residue) {
    const failed = typeof r.outcome === 'object' ? r.outcome.failed : undefined;
    if (r.outcome === 'repaired') checks.push({ level: 'ok', what: 'repaired', message: `${r.subject}: ${r.problem}: ${r.repair}: done` });
    else if (failed !== undefined) checks.push({ level: 'fail', what: 'repair', message: `${r.subject}: ${r.problem}: could not ${r.repair}: ${failed}` });
    else checks.push({ level: 'warn', what: 'crash residue', message: `${r.subject}: ${r.problem}; \`berth doctor --repair\` will ${r.repair}` });
  }
  if (residue.length === 0 && state.exists) checks.push({ level: 'ok', what: 'crash residue', message: 'nothing left by a killed berth' });

  const journal = await journalHealth(runtime.stateDir);
  if (journal.problem) checks.push({ level: 'warn', what: 'journal', message: journal.problem });
  else if (journal.corruptLines > 0) {
    checks.push({ level: 'warn', what: 'journal', message: `${journal.corruptLines} torn or damaged lines in ${journal.dir} (a crash mid-write, or a damaged file); ${journal.records} records readable` });
  } else checks.push({ level: 'ok', what: 'journal', message: `${count(journal.segments, 'segment')}, ${formatSize(journal.bytes)}, ${count(journal.records, 'record')}, no damaged lines` });

  // Not a crun candidate and not expected on every host: informational unless it is usable.
  const proxmox = await proxmoxReport(runtime, config.proxmox);
  // Not expected on every host: informational unless it is configured and does not answer.
  checks.push({ level: proxmox.reachable === false ? 'warn' : 'ok', what: 'backend pve', message: proxmox.message });

  // Last: a move changes where the checks above looked (this runtime's stateDir).
  const layout = layoutCheck(runtime, opts.repair === true);
  if (layout) checks.push(layout);

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
    storage,
    state,
    volumes,
    journal,
    residue,
    proxmox,
    checks,
    status,
  };
}

async function storageReport(config: StorageConfig): Promise<StorageReport> {
  const location = config.driver === 'zfs' ? (config.dataset ?? '') : config.dir;
  const report: StorageReport = { driver: config.driver, location, usedBytes: undefined, availableBytes: undefined, problem: undefined };
  // The dir driver makes its directory on first use; doctor changes nothing.
  if (config.driver === 'dir' && !existsSync(config.dir)) return report;
  try {
    const { openStorage } = await import('../storage/registry.js');
    const space = await (await openStorage(config)).space();
    report.usedBytes = space.used;
    report.availableBytes = space.available;
  } catch (err) {
    report.problem = (err as Error).message;
  }
  return report;
}

function stateReport(runtime: Runtime): StateReport {
  // Named by the root the user gave; what is checked is berth's directory in it.
  const dir = runtime.stateDir;
  const report: StateReport = { root: runtime.options.root, exists: existsSync(dir), writable: false, containers: 0, unreadable: [] };
  if (!report.exists) return report;
  try {
    accessSync(dir, constants.W_OK);
    report.writable = statSync(dir).isDirectory();
  } catch (err) {
    report.writable = false;
    report.notWritable = errnoCode(err) === 'EROFS' ? 'its file system is mounted read-only' : (err as Error).message;
  }
  const ids = runtime.store.ids();
  report.containers = ids.length;
  for (const id of ids) {
    try {
      runtime.store.read(id); // a directory without a record is crash residue, reported apart
    } catch {
      report.unreadable.push(id);
    }
  }
  return report;
}

async function journalHealth(root: string): Promise<JournalHealth> {
  const { JournalReader, journalDir, listSegments } = await import('../telemetry/journal.js');
  const dir = journalDir(root);
  const health: JournalHealth = { dir, segments: 0, bytes: 0, records: 0, corruptLines: 0, problem: undefined };
  try {
    const segments = listSegments(dir);
    health.segments = segments.length;
    for (const s of segments) health.bytes += statSync(join(dir, s.name)).size;
    // Two scans: an incomplete last line is counted as torn only when the second finds it unchanged.
    const reader = new JournalReader(root);
    const first = reader.scan();
    const second = reader.scan();
    health.records = first.records.length + first.events.length + second.records.length + second.events.length;
    health.corruptLines = first.corrupt + second.corrupt;
  } catch (err) {
    health.problem = `cannot read the journal in ${dir}: ${(err as Error).message}`;
  }
  return health;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;


export const DOCTOR_EXIT: Record<DoctorReport['status'], number> = { healthy: 0, warnings: 1, failures: 2 };
