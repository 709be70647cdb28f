// The pid of a container whose create was cut short after the backend made it: a berth killed
// between the backend's create and the record's write leaves a record without a pid, while the
// backend has a live init and wrote its pid to the pid file the record names. That init is the
// container's when it is alive and started after the record was written (a pid is not an
// identity alone). Read without the lock, the status uses it; the next verb that holds the lock
// (or the next create of the id) writes it into the record.
import { readFileSync } from 'node:fs';
import { executableId, isSameLiveProcess, processStartMs, readProcStat } from '../core/proc.js';
import { errorFields, log } from '../core/log.js';
import type { ContainerRecord } from './container-store.js';
import type { Runtime } from './runtime.js';

/** The record with the pid its pid file names, when that is the container's init; else as it is. */
export function withRecoveredPid(record: ContainerRecord): ContainerRecord {
  if (record.pid !== undefined || record.remote || record.pidFile === undefined) return record;
  let pid: number;
  try {
    pid = Number(readFileSync(record.pidFile, 'utf8').trim());
  } catch {
    return record;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isSameLiveProcess(pid, undefined)) return record;
  const started = processStartMs(pid);
  // 1 s of slack: the record's time is the wall clock's, the start time the kernel's in ticks.
  if (started === undefined || started < Date.parse(record.created) - 1000) return record;
  // Not started (start needs a recorded pid; run in the foreground records started at once):
  // the program it runs now is the one it ran at create (runtime/status.ts).
  const initExe = record.started ? undefined : executableId(pid);
  return { ...record, pid, pidStartTime: readProcStat(pid)?.startTime, ...(initExe !== undefined ? { initExe } : {}) };
}

/**
 * withRecoveredPid, and (the caller holds the lock) the recovered pid written into the record.
 * Never fails: a record that cannot be written keeps being recovered on each read.
 */
export function recoverPid(runtime: Runtime, record: ContainerRecord | undefined): ContainerRecord | undefined {
  if (!record) return record;
  const recovered = withRecoveredPid(record);
  if (recovered === record) return record;
  try {
    runtime.store.write(recovered);
    void log('info', `container "${record.id}": its create was cut short after ${record.backend} made it; recorded its init, pid ${recovered.pid}`, { id: record.id });
  } catch (err) {
    void log('warn', `container "${record.id}": cannot record the pid ${recovered.pid} of its init`, { id: record.id, ...errorFields(err) });
  }
  return recovered;
}
