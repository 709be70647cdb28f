// What killed berths left in this state root, over the whole root at once, for `doctor` (found)
// and `doctor --repair` (finished or rolled back). Each repair is the one the next verb on that
// container or image runs anyway: a cut short create's pid recorded (pid-recovery.ts), a cut
// short start recorded (start-reconcile.ts), a create killed before its backend answered rolled
// back (deleted), a record-less directory or a dead holder's lock file removed, an orphaned
// volume destroyed (orphan-volumes.ts), the image cache's transactions finished (cache-repair.ts).
// Nothing a live berth is working on (its lock is held) is reported or touched.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDirectoryLocked } from '../core/lock.js';
import { errorFields, log } from '../core/log.js';
import type { ContainerRecord } from './container-store.js';
import { orphanVolumes, removeOrphanVolumes } from './orphan-volumes.js';
import { withRecoveredPid } from './pid-recovery.js';
import type { Runtime } from './runtime.js';
import { deriveStatus } from './status.js';

export interface Residue {
  /** What it is about: a container, a file, a volume, an image. */
  subject: string;
  problem: string;
  /** What the repair does. */
  repair: string;
  /** After `--repair`: done, or why not. */
  outcome?: 'repaired' | { failed: string };
}

interface Found extends Residue {
  act: () => Promise<unknown>;
}

const HOLDER_FILE = /^\.(.+)\.holder$/;

/** The residue of killed berths; with `repair`, each repaired, then looked for again to confirm. */
export async function crashResidue(runtime: Runtime, opts: { repair: boolean; storage: boolean }): Promise<Residue[]> {
  const found = await findResidue(runtime, opts.storage);
  if (!opts.repair) return found.map(({ act: _act, ...r }) => r);
  for (const f of found) {
    try {
      await f.act();
      f.outcome = 'repaired';
    } catch (err) {
      f.outcome = { failed: err instanceof Error ? err.message : String(err) };
      await log('warn', `doctor --repair: ${f.subject}: could not ${f.repair}`, { op: 'doctor', ...errorFields(err) });
    }
  }
  const left = await findResidue(runtime, opts.storage);
  return found.map(({ act: _act, ...r }) => {
    const still = left.some((l) => l.subject === r.subject && l.problem === r.problem);
    return still && r.outcome === 'repaired' ? { ...r, outcome: { failed: 'still there after the repair' } } : r;
  });
}

/** `storage`: look into the storage too (false when it does not exist yet: opening it would make it). */
async function findResidue(runtime: Runtime, storage: boolean): Promise<Found[]> {
  return [...(await containerResidue(runtime)), ...(await holderResidue(runtime)), ...(storage ? await storageResidue(runtime) : [])];
}

/** Locks the container (which records a recovered pid or start) and does nothing else. */
const touch = (runtime: Runtime, id: string) => () => runtime.withLocked(id, async () => undefined);

async function containerResidue(runtime: Runtime): Promise<Found[]> {
  const store = runtime.store;
  const out: Found[] = [];
  for (const id of store.ids()) {
    if (await isDirectoryLocked(store.dir(id))) continue; // a verb at work
    let record: ContainerRecord | undefined;
    try {
      record = store.read(id);
    } catch {
      continue; // an unreadable record: doctor's state check names it, delete --force removes it
    }
    if (!record) {
      if (store.isHollow(id)) {
        out.push({ subject: `container directory ${store.dir(id)}`, problem: 'no record in it (a create or delete was killed)', repair: 'remove it', act: () => store.sweepHollow(id) });
      }
      continue;
    }
    const subject = `container "${id}"`;
    const temps = store.staleTemps(id);
    if (temps.length > 0) {
      out.push({ subject, problem: `${temps.length} temporary files of writes cut short (${temps.join(', ')})`, repair: 'remove them', act: () => runtime.withLocked(id, async () => store.removeStaleTemps(id)) });
    }
    if (record.remote) continue; // its backend owns the status
    if (record.pid === undefined) {
      const recovered = withRecoveredPid(record);
      if (recovered.pid !== undefined) {
        out.push({ subject, problem: `its create was cut short after ${record.backend} made it: the init (pid ${recovered.pid}) is not in the record`, repair: 'record the pid', act: touch(runtime, id) });
      } else {
        out.push({ subject, problem: 'its create was killed before the backend answered: it never ran and cannot be started', repair: `delete it, as \`berth delete --force ${id}\` would`, act: () => runtime.delete(id, true) });
      }
      continue;
    }
    if (!record.started && deriveStatus(record, false) === 'running') {
      out.push({ subject, problem: 'it runs while its record says created (a start was cut short)', repair: 'record it as started', act: touch(runtime, id) });
    }
  }
  return out;
}

/** Holder files of locks that are gone: a berth killed while it held the lock left them. */
async function holderResidue(runtime: Runtime): Promise<Found[]> {
  const dir = runtime.store.containersDir;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Found[] = [];
  for (const name of names) {
    const id = HOLDER_FILE.exec(name)?.[1];
    if (id === undefined) continue;
    // Beside a container's directory it is replaced by the next verb that locks it: only one
    // whose directory is gone is left for good.
    if (existsSync(runtime.store.dir(id))) continue;
    const file = join(dir, name);
    out.push({ subject: `lock holder file ${file}`, problem: 'its container directory is gone (the berth that held its lock was killed)', repair: 'remove it', act: async () => rmSync(file, { force: true }) });
  }
  return out;
}

/** This root's orphaned volumes and the image cache's unfinished transactions; none when the storage cannot be opened (doctor's storage check says why). */
async function storageResidue(runtime: Runtime): Promise<Found[]> {
  let images;
  try {
    images = await runtime.images();
  } catch {
    return [];
  }
  const out: Found[] = [];
  let volumesRepair: Promise<number> | undefined;
  for (const v of await orphanVolumes(runtime)) {
    out.push({
      subject: `volume ${v.volume}`,
      problem: `no record names it (a create --image of "${v.id}" was killed before its record)`,
      repair: 'destroy it',
      act: () => (volumesRepair ??= removeOrphanVolumes(runtime, 'doctor')),
    });
  }
  // One listing repairs every image: it runs once, whatever the number found.
  let imagesRepair: Promise<unknown> | undefined;
  for (const p of await images.pendingRepairs()) {
    out.push({ subject: `image ${p.digest}`, problem: p.problem, repair: p.repair, act: () => (imagesRepair ??= images.list('doctor')) });
  }
  return out;
}
