// The cgroups berth picks for a state root's containers (src/runtime/cgroup-path.ts):
// /berth-<root id>/<name> in every hierarchy, for tests that check what is left behind.
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { berthStateDir } from '../../src/core/state-root.js';

/** The root's id from <root>/@berth/identity.json, or undefined before its first create. */
export function rootId(root: string): string | undefined {
  return identityIn(berthStateDir(root));
}

function identityIn(stateDir: string): string | undefined {
  const file = join(stateDir, 'identity.json');
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

/**
 * Removes the empty parents /berth-<root id>/ of every state root found under `dir` (its
 * @berth/identity.json, up to four levels down). berth leaves them (removing one races another create
 * in the same root); a test that throws its roots away removes them too.
 */
export function removeRootCgroupParents(dir: string): void {
  const ids: string[] = [];
  const visit = (d: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile() && e.name === 'identity.json') {
        try {
          const id = identityIn(d);
          if (id && /^[0-9a-f]{10}$/.test(id)) ids.push(id);
        } catch {
          // a corrupt identity (a test of it) names no cgroup
        }
      } else if (e.isDirectory() && depth < 4) visit(join(d, e.name), depth + 1);
    }
  };
  visit(dir, 0);
  if (ids.length === 0 || !existsSync('/sys/fs/cgroup')) return;
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const id of ids) {
      try {
        rmdirSync(join('/sys/fs/cgroup', h, `berth-${id}`));
      } catch {
        // not there, or still holding a container's cgroup: left as it is
      }
    }
  }
}
