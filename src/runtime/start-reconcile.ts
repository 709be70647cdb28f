// The record after a start that was cut short: a berth killed between the backend's start and
// the record's write leaves `started` unset while the container runs. The status is derived
// from the init's program anyway (runtime/status.ts); the next verb that holds the lock writes
// what it found, so the record says it too.
import { errorFields, log } from '../core/log.js';
import type { ContainerRecord } from './container-store.js';
import type { Runtime } from './runtime.js';
import type { ContainerStatus } from './status.js';

/** Call with the container's lock held. Never fails the verb: the status is right without it. */
export async function reconcileStart(runtime: Runtime, record: ContainerRecord, status: ContainerStatus): Promise<ContainerRecord> {
  if (record.remote || record.started || status !== 'running') return record;
  const fixed: ContainerRecord = { ...record, started: true };
  try {
    runtime.store.write(fixed);
    await log('info', `container "${record.id}" was started by a berth that was killed before it could record it; recorded as running`, { id: record.id });
  } catch (err) {
    await log('warn', `container "${record.id}" runs but its record says created; cannot fix the record`, { id: record.id, ...errorFields(err) });
  }
  return fixed;
}
