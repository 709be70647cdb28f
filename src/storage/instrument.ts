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

const COUNTED: ReadonlySet<PropertyKey> = new Set(COUNTED_STORAGE_OPS);

/** The driver with its counted operations instrumented; every method still runs on the driver itself. */
export function instrumentDriver<D extends StorageDriver>(driver: D): D {
  const instrumented = new Map<PropertyKey, unknown>();
  return new Proxy(driver, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = instrumented.get(prop);
      if (!fn) {
        const method = value as (...args: unknown[]) => Promise<unknown>;
        fn = COUNTED.has(prop) ? (...args: unknown[]) => measured(target, String(prop), () => method.apply(target, args)) : method.bind(target);
        instrumented.set(prop, fn);
      }
      return fn;
    },
  });
}

function measured<T>(driver: StorageDriver, op: string, run: () => Promise<T>): Promise<T> {
  return inSpan(`storage.${op}`, { 'berth.storage.driver': driver.name, 'berth.storage.location': driver.location }, async () => {
    const t0 = performance.now();
    let result: 'ok' | 'error' = 'error';
    try {
      const value = await run();
      result = 'ok';
      return value;
    } finally {
      publishStorageOperation({ driver: driver.name, op, result, durationS: (performance.now() - t0) / 1000 });
    }
  });
}
