// Resolving a path inside a root filesystem as a process chrooted there would: symlinks are
// followed, but absolute targets and `..` are taken relative to the root and can never leave it.
// This is how berth reads an image's /etc/passwd or makes its volume directories without a
// hostile image redirecting it onto the host.
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, errnoCode } from './errors.js';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/**
 * The host path of `path` inside `root`, every symlink resolved within the root. Components that
 * do not exist (yet) are kept as they are, so the result can be created. Never outside `root`.
 */
export function resolveInRoot(root: string, path: string): string {
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop(); // `..` at the root stays at the root, as it does for a chrooted process
      continue;
    }
    const hostPath = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(hostPath).isSymbolicLink();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new InvalidArgumentError(`too many symbolic links resolving ${path} inside ${root}`);
    const target = readlinkSync(hostPath);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return join(root, ...resolved);
}
