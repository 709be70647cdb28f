// Every storage driver opened through the registry is instrumented here, in one place: each
// operation that changes storage publishes its outcome (driver, op, result, duration) on
// core/channels (berth_storage_operations_total) and, with tracing on, is a span `storage.<op>`
// whose children are the tool calls (zfs …) it makes. Reads (exists, info, list, usage, space,
// listSnapshots) are not counted: they are frequent and change nothing.
import { publishStorageOperation } from '../core/channels.js';
import { inSpan } from '../core/tracing.js';
import type { StorageDriver } from './driver.js';

export const COUNTED_STORAGE_OPS = [
  'createTemplate',
  'sealTemplate',
  'cloneTemplate',
  'setProperties',
  'destroy',
  'rename',
  'snapshot',
  'rollback',
  'destroySnapshot',
  'setQuota',
] as const;

export function instrumentDriver<D extends StorageDriver>(driver: D): D {
  const wrapped = Object.create(driver) as D;
  for (const op of COUNTED_STORAGE_OPS) {
    const original = driver[op] as (...args: unknown[]) => Promise<unknown>;
    (wrapped as unknown as Record<string, unknown>)[op] = (...args: unknown[]) =>
      inSpan(`storage.${op}`, { 'berth.storage.driver': driver.name, 'berth.storage.location': driver.location }, async () => {
        const t0 = performance.now();
        let result: 'ok' | 'error' = 'error';
        try {
          const value = await original.apply(driver, args);
          result = 'ok';
          return value;
        } finally {
          publishStorageOperation({ driver: driver.name, op, result, durationS: (performance.now() - t0) / 1000 });
        }
      });
  }
  return wrapped;
}
