// The container status machine. Status is derived from the record and the live process, never
// stored: a container whose init died is stopped whatever the record last said.
import { ContainerStateError } from '../core/errors.js';
import { executableId, isSameLiveProcess } from '../core/proc.js';
import type { ContainerRecord } from './container-store.js';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/**
 * `createInProgress`: whether another berth process holds the lock of a record that has no pid
 * yet. Without a pid and without such a holder, the record is what a killed create left: stopped.
 */
export function deriveStatus(record: ContainerRecord, createInProgress: boolean): ContainerStatus {
  if (record.pid === undefined) return createInProgress ? 'creating' : 'stopped';
  if (!isSameLiveProcess(record.pid, record.pidStartTime)) return 'stopped';
  if (record.paused) return 'paused';
  if (record.started) return 'running';
  // A berth killed between the backend's start and the record's write left started unset: the
  // kernel knows better. A created init still runs the runtime's binary (waiting to exec the
  // container's process); once started, it runs the container's.
  if (record.initExe !== undefined) {
    const now = executableId(record.pid);
    if (now !== undefined && now !== record.initExe) return 'running';
  }
  return 'created';
}

export type Operation = 'start' | 'kill' | 'pause' | 'resume' | 'exec' | 'ps' | 'update' | 'delete' | 'rollback';

const allowed: Record<Operation, readonly ContainerStatus[]> = {
  start: ['created'],
  kill: ['created', 'running', 'paused'],
  pause: ['running'],
  resume: ['paused'],
  exec: ['running'],
  ps: ['created', 'running', 'paused'],
  update: ['created', 'running', 'paused'],
  // created too, as runc: the spec calls a created container not stopped, but containerd's runc
  // shim deletes a created task (one whose start failed or never came) with a plain `delete`.
  delete: ['created', 'stopped'],
  // A live container keeps using the files it has open: its rootfs changes only while stopped.
  rollback: ['stopped'],
};

const advice: Partial<Record<Operation, string>> = {
  start: 'only a created container can be started',
  delete: 'stop it first or use delete --force',
  rollback: 'stop it first',
};

/**
 * runc's words for a container that has exited, which containerd's shim looks for: a kill that
 * races the container's exit is "process already finished" to it, not a failure, when the
 * runtime's message says "container not running" (docker kill failed 3 times in 4 without them).
 */
const NOT_RUNNING = 'container not running';

export function assertAllowed(op: Operation, id: string, status: ContainerStatus): void {
  if (allowed[op].includes(status)) return;
  const why = advice[op] ? `; ${advice[op]}` : status === 'stopped' ? ` (${NOT_RUNNING})` : '';
  throw new ContainerStateError(`cannot ${op} container "${id}": it is ${status}${why}`);
}
