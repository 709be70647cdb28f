// Warm against cold: create --image from the cache against create --image LAYOUT with an empty cache.
import { iterations } from '../cycle.js';
import { createSubject, digestOf, setUpImageBench } from '../image-create.js';
import { compare, runCommand, spreadNotes, type Goal } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

/** 76 files of 12 MiB and 6000 small ones: about 1 GB unpacked. */
const LARGE_FILES = 76;

export const description =
  'A generated image of about 1 GB (6000 small files, 76 × 12 MiB) on a zfs-fuse pool. A warm create costs the same ' +
  'whatever the image (see image-create-warm), about half a second here, most of it one berth process and one crun ' +
  'create; a cold one grows with the image (about 7.7 s for the ~250 MB image in an earlier run: 15×), so the image ' +
  'must be large for the ratio to show what the cache saves. Baseline: a cold create — `berth create --image LAYOUT ID` after ' +
  '`berth image rm` (untimed), so the create verifies, unpacks and seals the template, then clones it. Candidate: a ' +
  'warm create — `berth create --image DIGEST ID` with the image cached. Each container is deleted after its ' +
  'sample, untimed.';

export const goal: Goal = { maxRatio: 0.02, text: 'warm create at least 50× faster than cold for the large (~1 GB) image (median ratio ≤ 0.02)' };

export async function run(): Promise<ScenarioResult> {
  const b = await setUpImageBench(LARGE_FILES);
  try {
    const digest = digestOf(b.large);
    const cold = createSubject(b, 'cold create, ~1 GB image', () => b.large.layout, async () => void (await runCommand([...b.berth, 'image', 'rm', digest])));
    const warm = createSubject(b, 'warm create, ~1 GB image', () => digest);
    const c = await compare(cold, [warm], { iterations: iterations(3), warmup: 0 });
    return { title: 'Create from a cached image vs a cold cache, ~1 GB image (zfs-fuse)', baseline: c.baseline, candidates: c.candidates, notes: spreadNotes(c) };
  } finally {
    const failures = await b.scope.close();
    if (failures.length) console.error(`cleanup after image-create-cold: ${failures.join('; ')}`);
  }
}
