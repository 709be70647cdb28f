// The cgroups berth picks for a state root's containers (src/runtime/cgroup-path.ts):
// /berth-<root id>/<name> in every hierarchy, for tests that check what is left behind.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The root's id from <root>/identity.json, or undefined before its first create. */
export function rootId(root: string): string | undefined {
  const file = join(root, 'identity.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { id: string }).id : undefined;
}

/** The container cgroup directories of ROOT that exist, in every hierarchy ("<hierarchy>/<name>"). */
export function rootCgroups(root: string): string[] {
  const id = rootId(root);
  if (!id) return [];
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const parent = join('/sys/fs/cgroup', h, `berth-${id}`);
    if (!existsSync(parent)) continue;
    for (const e of readdirSync(parent, { withFileTypes: true })) if (e.isDirectory()) found.push(`${h}/${e.name}`);
  }
  return found.sort();
}
