// The cgroup path berth gives a container whose bundle names none (linux.cgroupsPath): crun and
// runc would otherwise put it at /<id>, the same cgroup for the same id in every state root, so
// `delete --force c1` in one root would kill another root's c1. The path carries the root's
// identity (core/state-root.ts) and a cgroup-safe form of the id.
import { createHash } from 'node:crypto';

/** Ids of this form are used as they are: safe as a cgroup directory and in a systemd unit name. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * The id as one cgroup path component. Ids may be 255 bytes of almost anything (core/ids.ts);
 * a cgroup name is at most 255 bytes and a systemd unit name allows [A-Za-z0-9:_.\\-] only. Other
 * ids become "_" + a readable prefix + "-" + 16 hex digits of their SHA-256: a safe id never
 * starts with "_", so the two forms cannot meet, and distinct ids stay distinct.
 */
export function cgroupName(id: string): string {
  if (SAFE_NAME.test(id)) return id;
  const readable = id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `_${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

/**
 * linux.cgroupsPath for a container of root `rootId`: /berth-<rootId>/<name> for the cgroupfs
 * manager, the systemd manager's slice:prefix:name form under --systemd-cgroup (a scope
 * berth-<rootId>-<name>.scope in system.slice).
 */
export function chosenCgroupsPath(rootId: string, id: string, systemd: boolean): string {
  const name = cgroupName(id);
  return systemd ? `system.slice:berth-${rootId}:${name}` : `/berth-${rootId}/${name}`;
}
