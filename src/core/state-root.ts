// The identity of a state root (--root): a random id made once and kept in <root>/@berth/identity.json.
// Host-global names berth makes (cgroup paths, storage volumes) carry it, so two roots on one
// host, or two hosts sharing one pool, never share a name even when they share container ids.
// Random rather than a hash of the path: two hosts both using /run/berth must still differ.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
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

/**
 * berth's one entry in a --root. A root may be shared with runc (containerd's runc shim gives
 * every runtime /run/containerd/runc/<namespace>; Docker may too), and `runc list` reports every
 * directory there that is not a runc container: so berth keeps all it writes in one directory,
 * named with a character no runc, crun or containerd container id may have, so that no
 * container of theirs can ever take the name.
 */
export const STATE_DIR_NAME = '@berth';

/**
 * Where berth keeps its state under `root`: `<root>/@berth`, or `root` itself when it holds a
 * root made by berth 0.8, which kept its records, journal and backend state in the root's top
 * level ("flat"). A flat root keeps working as it is; `berth doctor --repair` moves it into
 * place once it holds no container (live containers' backend state is never moved).
 */
export function berthStateDir(root: string): string {
  if (isFlatLayout(root)) return root;
  finishMove(root);
  return join(root, STATE_DIR_NAME);
}

/** A root laid out by berth 0.8: its container records (or identity) at the top, no @berth. */
export function isFlatLayout(root: string): boolean {
  if (existsSync(join(root, STATE_DIR_NAME))) return false;
  if (existsSync(join(root, FILE))) return true;
  // A runc container named "containers" has a state.json; berth's records directory has none.
  return isDirectory(join(root, 'containers')) && !existsSync(join(root, 'containers', 'state.json'));
}

/** What a 0.8 root holds at its top level, in the order they move; the identity last (see moveFlatLayout). */
export const FLAT_LAYOUT_ENTRIES = ['journal', 'containers', 'crun', 'runc', 'lxc', 'pve', FILE] as const;

/** Where a flat root's entries gather before they become <root>/@berth in one rename. */
const MOVING = `.${STATE_DIR_NAME}.moving`;

/**
 * Moves a flat (0.8) root's entries into <root>/@berth. The caller makes sure it holds no
 * container (their backends' state must not move under them). Crash-safe: the entries gather
 * in <root>/.@berth.moving, the identity last, and one rename makes it <root>/@berth; a root
 * whose identity has moved reads as flat no more, and berthStateDir finishes the rename.
 * Returns the names moved.
 */
export function moveFlatLayout(root: string): string[] {
  const staging = join(root, MOVING);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const moved: string[] = [];
  for (const name of FLAT_LAYOUT_ENTRIES) {
    const from = join(root, name);
    if (!existsSync(from)) continue;
    const to = join(staging, name);
    if (existsSync(to)) throw new InternalError(`cannot move ${from} into ${join(root, STATE_DIR_NAME)}: ${to} exists too (an earlier move cut short?); look at both and keep one`);
    renameSync(from, to);
    moved.push(name);
  }
  finishMove(root);
  return moved;
}

/** The last step of moveFlatLayout, also done by the next verb after a crash before it. */
function finishMove(root: string): void {
  const staging = join(root, MOVING);
  if (!existsSync(staging)) return;
  try {
    renameSync(staging, join(root, STATE_DIR_NAME));
  } catch (err) {
    // Another process finished it first (the target exists, the staging directory is gone).
    if (!['ENOENT', 'EEXIST', 'ENOTEMPTY'].includes(errnoCode(err) ?? '')) throw err;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The root's identity, made on first use. Concurrent first uses agree: the first link wins.
 * `stateDir` is berth's directory in the root (berthStateDir).
 */
export function stateRootIdentity(stateDir: string): StateRootIdentity {
  const path = join(stateDir, FILE);
  const existing = readIdentity(path);
  if (existing) return existing;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const made: StateRootIdentity = { id: randomBytes(5).toString('hex'), created: new Date().toISOString(), hostname: hostname() };
  // Written whole under a private name, then linked into place: link(2) fails if another
  // process got there first, and readers never see a torn file.
  const tmp = join(stateDir, `.${FILE}.new-${process.pid}`);
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
