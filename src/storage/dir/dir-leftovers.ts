// What a dir-driver step that was killed leaves behind, and how the next step finds it. Every
// multi-step change works under a name that carries the pid of the process making it, and
// commits by one rename; a leftover whose process is dead is garbage to remove, or (for a
// rollback or snapshot that had finished its copy) a complete tree to move into place.
// A leftover of a live process is never touched: that process is still at work.
import { readProcStat } from '../../core/proc.js';

/** The stages, each a name prefix or suffix followed by the owner's pid. */
export const STAGE = {
  /** D/<kind>/.new-<pid>-<name>: a volume being made (meta + fs), renamed to <name> when whole. */
  newVolume: '.new-',
  /** D/<kind>/.gone-<pid>-<name>: a volume renamed away by destroy, then removed. */
  goneVolume: '.gone-',
  /** <volume>/snapshots/.partial-<pid>-<snap>: a snapshot's copy; complete once meta lists <snap>. */
  partialSnapshot: '.partial-',
  /** <volume>/snapshots/.gone-<pid>-<snap>: a snapshot renamed away by destroySnapshot or a rollback. */
  goneSnapshot: '.gone-',
  /** <volume>/fs.rollback-<pid>: a rollback's copy of the snapshot, in progress. */
  rollbackCopy: 'fs.rollback-',
  /** <volume>/fs.ready-<pid>: that copy, complete, about to replace fs. */
  rollbackReady: 'fs.ready-',
  /** <volume>/fs.old-<pid>: the fs a rollback moved aside, removed once the new one is in place. */
  rollbackOld: 'fs.old-',
} as const;

export function stagedName(prefix: string, name = ''): string {
  return name === '' ? `${prefix}${process.pid}` : `${prefix}${process.pid}-${name}`;
}

export interface Leftover {
  prefix: string;
  pid: number;
  /** The volume or snapshot name it was made for ('' for the fs.* stages). */
  name: string;
}

/** Parses `entry` as a leftover of one of `prefixes`; undefined if it is none. */
export function parseLeftover(entry: string, prefixes: readonly string[]): Leftover | undefined {
  for (const prefix of prefixes) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(\d+)(?:-(.+))?$/.exec(entry.slice(prefix.length));
    if (!m) continue;
    return { prefix, pid: Number(m[1]), name: m[2] ?? '' };
  }
  return undefined;
}

/** The process that made a leftover is gone (a zombie counts as gone: it will do nothing more). */
export function ownerIsDead(leftover: Leftover): boolean {
  if (leftover.pid === process.pid) return false;
  const stat = readProcStat(leftover.pid);
  return !stat || stat.state === 'Z' || stat.state === 'X';
}
