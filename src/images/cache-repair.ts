// The image cache's transactions and their recovery. A template is complete when it is sealed:
// the seal (zfs: the @template snapshot; dir: "sealed" in volume.json, written atomically) is
// the marker written last, after every layer is unpacked and every property set. A removal
// first marks the template `removing`, then destroys it, then drops its index entry. So, as
// other verbs see it, an import or a removal happens at one instant (the seal, the mark) and
// the index follows the pool. What a killed berth leaves is one of:
// - an unsealed template (an import killed while unpacking, or a zfs destroy killed between
//   the snapshot and the dataset): destroyed;
// - a template marked `removing` (a removal killed after its mark): the removal is finished;
// - an index entry without a template, or a sealed template without an entry: the entry is
//   dropped, or the template re-adopted (it is sealed, so it is whole).
// Each repair runs under the digest's lock, only when no live berth holds it (an import or a
// removal in progress is never touched), and says what it did in the log.
import { VolumeNotFoundError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { StorageDriver, VolumeInfo } from '../storage/driver.js';
import type { ImageIndex, IndexEntry } from './image-index.js';

/** The property a removal sets before it destroys anything. */
export const REMOVING = 'removing';

const DIGEST_NAME = /^sha(256|512):[a-f0-9]+$/;

/** Whether a template is an image of ours left half-made or half-removed. */
export function unfinished(t: VolumeInfo): 'partial' | 'removing' | undefined {
  if (!DIGEST_NAME.test(t.name)) return undefined;
  if (t.properties[REMOVING] === '1') return 'removing';
  if (!t.sealed) return 'partial';
  return undefined;
}

/**
 * Finishes what an interrupted import or removal left of template `digest`; call it holding
 * the digest's lock. Resolves to true when the template is gone afterwards.
 */
export async function repairTemplate(driver: StorageDriver, index: ImageIndex, digest: string, op: string): Promise<boolean> {
  const t = await driver.info('image', digest).catch(() => undefined);
  if (!t) return true;
  const state = unfinished(t);
  if (state === undefined) return false;
  if (state === 'removing') {
    const clones = (await driver.list('container')).filter((c) => c.origin === digest);
    if (clones.length > 0) {
      // Not a state berth makes (a removal checks for clones under the lock), but never lose them.
      await driver.setProperties('image', digest, { [REMOVING]: undefined, parked: '1' });
      await log('warn', `image ${digest}: an interrupted removal left it with container volumes (${clones.map((c) => c.name).join(', ')}); parked until its last container goes`, { op });
      return false;
    }
  }
  try {
    await driver.destroy('image', digest);
  } catch (err) {
    // Gone meanwhile: a destroy the killed berth had started (its zfs child ran on) finished it.
    if (!(err instanceof VolumeNotFoundError)) throw err;
  }
  await index.update((images) => {
    delete images[digest];
  });
  await log(
    'warn',
    state === 'removing'
      ? `image ${digest}: finished the removal that an interrupted berth had begun (the template was marked removing)`
      : `image ${digest}: removed the partial template of an interrupted import (it was never sealed, so its unpack did not finish)`,
    { op },
  );
  return true;
}

/**
 * Repairs every unfinished template that no live berth is working on; resolves to the listing
 * without the unfinished ones (repaired or still in progress).
 */
export async function repairUnfinished(driver: StorageDriver, index: ImageIndex, templates: VolumeInfo[], op: string): Promise<VolumeInfo[]> {
  const out: VolumeInfo[] = [];
  for (const t of templates) {
    if (unfinished(t) === undefined) {
      out.push(t);
      continue;
    }
    if (await index.digestLocked(t.name)) continue; // an import or removal at work
    const gone = await index.withDigestLock(t.name, () => repairTemplate(driver, index, t.name, op));
    if (!gone) {
      const now = await driver.info('image', t.name).catch(() => undefined);
      if (now && unfinished(now) === undefined) out.push(now);
    }
  }
  return out;
}

/**
 * Log lines for an index that disagreed with the pool (list() then rewrites it): entries
 * dropped for templates that are gone, templates re-adopted. An image whose lock is held is
 * being imported or removed right now: its difference is the transaction's, not a repair.
 */
export async function reportIndexRepair(
  index: ImageIndex,
  stored: Record<string, IndexEntry> | undefined,
  fresh: Record<string, IndexEntry>,
  op: string,
): Promise<void> {
  if (stored === undefined) {
    if (Object.keys(fresh).length > 0) await log('info', `rebuilt the image index ${index.file} from ${Object.keys(fresh).length} sealed templates`, { op });
    return;
  }
  for (const digest of Object.keys(stored)) {
    if (!fresh[digest] && !(await index.digestLocked(digest))) await log('warn', `image ${digest}: dropped its index entry: it has no template (an interrupted removal?)`, { op });
  }
  for (const digest of Object.keys(fresh)) {
    if (!stored[digest] && !(await index.digestLocked(digest))) await log('warn', `image ${digest}: re-adopted its sealed (complete) template into the image index`, { op });
  }
}

/** What a killed berth left in the image cache, as `doctor` reports it before repairing. */
export interface PendingCacheRepair {
  digest: string;
  problem: string;
  /** What the repair (the next image verb, or `doctor --repair`) does about it. */
  repair: string;
}

/** The repairs list() would make, found without making them; images a live berth works on are left out. */
export async function pendingCacheRepairs(driver: StorageDriver, index: ImageIndex): Promise<PendingCacheRepair[]> {
  const templates = await driver.list('image');
  const stored = index.read();
  const out: PendingCacheRepair[] = [];
  const sealed = new Set<string>();
  for (const t of templates) {
    if (!DIGEST_NAME.test(t.name)) continue;
    const state = unfinished(t);
    if (state === undefined) sealed.add(t.name);
    if (await index.digestLocked(t.name)) continue;
    if (state === 'partial') out.push({ digest: t.name, problem: 'a partial template of an interrupted import (never sealed)', repair: 'destroy it' });
    if (state === 'removing') out.push({ digest: t.name, problem: 'a removal an interrupted berth began (marked removing)', repair: 'finish the removal' });
  }
  // No index at all is rebuilt silently (a fresh cache, or one from before the index).
  if (stored === undefined) return out;
  for (const digest of Object.keys(stored)) {
    if (!sealed.has(digest) && !out.some((p) => p.digest === digest) && !(await index.digestLocked(digest))) {
      out.push({ digest, problem: 'an index entry without a template', repair: 'drop the entry' });
    }
  }
  for (const digest of sealed) {
    if (!stored[digest] && !(await index.digestLocked(digest))) out.push({ digest, problem: 'a sealed template missing from the index', repair: 're-adopt it' });
  }
  return out;
}
