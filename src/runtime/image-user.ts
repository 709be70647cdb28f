// The user an image's process runs as. `User` in an image config (or --user) is `user`,
// `uid`, `user:group` or `uid:gid`; names are looked up in the image's own /etc/passwd and
// /etc/group (read inside its rootfs, never the host's), and the user's supplementary groups
// are added, as Docker and containerd do.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, errnoCode } from '../core/errors.js';
import { resolveInRoot } from '../core/path-in-root.js';

export interface ImageUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The user's name when the image knows it. */
  name: string | undefined;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC_ID = /^\d{1,10}$/;
const MAX_ID = 2 ** 32 - 2; // (uid_t)-1 means "no change" to the kernel

function readImageFile(rootfs: string, path: string): string | undefined {
  try {
    return readFileSync(resolveInRoot(rootfs, path), 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

function lines(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text)
    .filter((f) => f.length >= 4 && NUMERIC_ID.test(f[2]!) && NUMERIC_ID.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text)
    .filter((f) => f.length >= 3 && NUMERIC_ID.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }));
}

function numericId(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (n > MAX_ID) throw new InvalidArgumentError(`user "${spec}": ${what} ${text} is out of range`);
  return n;
}

/** Resolves a user spec against the image's rootfs; an unknown name is an error naming it. */
export function resolveImageUser(rootfs: string, spec: string | undefined): ImageUser {
  const text = (spec ?? '').trim();
  if (text === '') return { uid: 0, gid: 0, additionalGids: [], name: 'root' };
  const [userPart, groupPart, ...rest] = text.split(':');
  if (rest.length > 0 || userPart === '' || groupPart === '') {
    throw new InvalidArgumentError(`user "${text}" is not of the form user, uid, user:group or uid:gid`);
  }
  const passwd = parsePasswd(readImageFile(rootfs, '/etc/passwd'));
  const groups = parseGroup(readImageFile(rootfs, '/etc/group'));

  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  if (NUMERIC_ID.test(userPart!)) {
    uid = numericId(userPart!, 'uid', text);
    const entry = passwd.find((p) => p.uid === uid);
    name = entry?.name;
    gid = entry?.gid;
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new InvalidArgumentError(`user "${userPart}" is not in the image's /etc/passwd`);
    ({ uid, gid, name } = entry);
  }
  if (groupPart !== undefined) {
    if (NUMERIC_ID.test(groupPart)) gid = numericId(groupPart, 'gid', text);
    else {
      const group = groups.find((g) => g.name === groupPart);
      if (!group) throw new InvalidArgumentError(`group "${groupPart}" is not in the image's /etc/group`);
      gid = group.gid;
    }
  }
  const primary = gid ?? 0;
  // An explicit group replaces the supplementary groups, as in Docker.
  const additionalGids =
    groupPart === undefined && name !== undefined
      ? [...new Set(groups.filter((g) => g.members.includes(name!) && g.gid !== primary).map((g) => g.gid))]
      : [];
  return { uid, gid: primary, additionalGids, name };
}
