// The shape a container record must have before any verb acts on it. A record is berth's own
// file, but a disk, a kill or a hand can damage it: a torn file, `null`, or `"pid": "abc"` must be
// reported as what it is (naming the file and the way out), never read as a stopped container
// or as no container at all.
import { CorruptRecordError } from '../core/errors.js';
import type { ContainerRecord } from './container-store.js';

type Check = [field: string, ok: (v: unknown) => boolean, want: string];

const isString = (v: unknown): boolean => typeof v === 'string';
const isPid = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const isBool = (v: unknown): boolean => typeof v === 'boolean';
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

const REQUIRED: Check[] = [
  ['backend', (v) => isString(v) && v !== '', 'a backend name'],
  ['bundle', isString, 'a path'],
  ['rootfs', isString, 'a path'],
  ['created', isString, 'a time'],
];
const OPTIONAL: Check[] = [
  ['pid', isPid, 'a positive integer'],
  ['pidStartTime', isCount, 'a non-negative integer'],
  ['started', isBool, 'true or false'],
  ['initExe', isString, 'a dev:ino pair'],
  ['paused', isBool, 'true or false'],
  ['remote', isBool, 'true or false'],
  ['annotations', isObject, 'an object'],
  ['image', (v) => isObject(v) && isString((v as { digest?: unknown }).digest), 'an object with a digest'],
  ['cgroupsPath', isString, 'a cgroup path'],
  ['pidFile', isString, 'a path'],
];

/** `value` as parsed from `path` for container `id`, or CorruptRecordError naming what is wrong. */
export function checkRecord(value: unknown, id: string, path: string): ContainerRecord {
  const bad = (why: string): CorruptRecordError => new CorruptRecordError(id, path, why);
  if (!isObject(value)) throw bad(`it holds ${value === null ? 'null' : typeof value}, not a record`);
  const r = value as Record<string, unknown>;
  if (r.version !== 1 && r.version !== 2) throw bad(`its version is ${JSON.stringify(r.version)}: this berth reads versions 1 and 2 (a newer berth wrote it?)`);
  if (r.id !== id) throw bad(`it names container ${JSON.stringify(r.id)}, not "${id}"`);
  for (const [field, ok, want] of REQUIRED) if (!ok(r[field])) throw bad(`${field} is ${JSON.stringify(r[field]) ?? 'missing'}, not ${want}`);
  for (const [field, ok, want] of OPTIONAL) if (r[field] !== undefined && !ok(r[field])) throw bad(`${field} is ${JSON.stringify(r[field])}, not ${want}`);
  return { annotations: {}, ...r } as unknown as ContainerRecord;
}
