// The state root's layout as doctor reports it: berth 0.8 kept its records, journal and backend
// state at the root's top level, and a root shared with runc then lists each of them as an error
// in `runc list`. A flat root keeps working; doctor --repair moves it under <root>/@berth, but
// only while it holds no container, since a live container's backend state must not move.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_DIR_NAME, isFlatLayout, moveFlatLayout } from '../core/state-root.js';
import type { Check } from './doctor.js';
import type { Runtime } from './runtime.js';

/** Directories of a flat root with one entry per container (dot-entries are berth's own); each is in FLAT_LAYOUT_ENTRIES. */
export const PER_CONTAINER_DIRS = ['containers', 'crun', 'runc', 'lxc'] as const;

/** undefined when the root has the current layout. */
export function layoutCheck(runtime: Runtime, repair: boolean): Check | undefined {
  const root = runtime.options.root;
  if (!isFlatLayout(root)) return undefined;
  const target = join(root, STATE_DIR_NAME);
  const flat = `${root} has berth 0.8's flat layout (its records and backend state at the top level, where a root shared with runc shows each in \`runc list\` errors)`;
  const held = containersIn(root);
  if (held.length > 0) {
    return { level: 'warn', what: 'layout', message: `${flat}; it keeps working as it is; once its containers are deleted (${held.slice(0, 5).join(', ')}${held.length > 5 ? ', …' : ''}), \`berth doctor --repair\` moves it into ${target}` };
  }
  if (!repair) return { level: 'warn', what: 'layout', message: `${flat}; it holds no container: \`berth doctor --repair\` moves it into ${target}` };
  try {
    const moved = moveFlatLayout(root);
    return { level: 'ok', what: 'repaired', message: `${flat}: moved ${moved.join(', ')} into ${target}: done` };
  } catch (err) {
    return { level: 'fail', what: 'repair', message: `${flat}: could not move it into ${target}: ${(err as Error).message}` };
  }
}

function containersIn(root: string): string[] {
  const found = new Set<string>();
  for (const dir of PER_CONTAINER_DIRS) {
    for (const name of entries(join(root, dir))) if (!name.startsWith('.')) found.add(name);
  }
  return [...found].sort();
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

