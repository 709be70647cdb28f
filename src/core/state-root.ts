// The identity of a state root (--root): a random id made once and kept in <root>/identity.json.
// Host-global names berth makes (cgroup paths, storage volumes) carry it, so two roots on one
// host, or two hosts sharing one pool, never share a name even when they share container ids.
// Random rather than a hash of the path: two hosts both using /run/berth must still differ.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { InternalError, ReadOnlyFileSystemError, errnoCode } from './errors.js';

/** 10 lower-case hex digits: short enough for names, 40 bits against a fleet's collisions. */
export const ROOT_ID_PATTERN = /^[0-9a-f]{10}$/;

export interface StateRootIdentity {
  id: string;
  /** When and where it was made, for a person reading the file. */
  created: string;
  hostname: string;
}

const FILE = 'identity.json';

/** The root's identity, made on first use. Concurrent first uses agree: the first link wins. */
export function stateRootIdentity(root: string): StateRootIdentity {
  const path = join(root, FILE);
  const existing = readIdentity(path);
  if (existing) return existing;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const made: StateRootIdentity = { id: randomBytes(5).toString('hex'), created: new Date().toISOString(), hostname: hostname() };
  // Written whole under a private name, then linked into place: link(2) fails if another
  // process got there first, and readers never see a torn file.
  const tmp = join(root, `.${FILE}.new-${process.pid}`);
  writeFileAtomic(tmp, JSON.stringify(made, null, 2) + '\n', 0o644);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  const final = readIdentity(path);
  if (!final) throw new InternalError(`state root identity ${path} vanished while it was made`);
  return final;
}

function readIdentity(path: string): StateRootIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: Partial<StateRootIdentity>;
  try {
    parsed = JSON.parse(text) as Partial<StateRootIdentity>;
  } catch (err) {
    throw new InternalError(`state root identity ${path} is corrupt (not JSON); it names this root's volumes and cgroups, so restore it rather than delete it`, { cause: err });
  }
  if (typeof parsed.id !== 'string' || !ROOT_ID_PATTERN.test(parsed.id)) {
    throw new InternalError(`state root identity ${path} holds no valid id (10 hex digits); it names this root's volumes and cgroups, so restore it rather than delete it`);
  }
  return { id: parsed.id, created: String(parsed.created ?? ''), hostname: String(parsed.hostname ?? '') };
}

/**
 * Refuses a verb that must write the state root (its records) when the root's file system is
 * mounted read-only, before anything changes: the container stays as it is, and the message
 * says which verbs still work. A root that does not exist yet is not refused here.
 */
export function assertStateRootWritable(root: string, what: string): void {
  // A root not made yet is made in its nearest existing parent: that one is asked.
  let dir = resolve(root);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (errnoCode(err) !== 'EROFS') return;
    throw new ReadOnlyFileSystemError(
      `${what}: state root ${root} is on a read-only file system, and berth keeps its container records there; remount it read-write and try again (state, list, kill, ps and exec work meanwhile)`,
      { cause: err },
    );
  }
}

/** mkdir -p with mode 0700 that never fails: the directory may be needed only by verbs that check the root themselves. */
export function makeDirIfPossible(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    // read-only or full root: reported by the verb that needs to write
  }
}
