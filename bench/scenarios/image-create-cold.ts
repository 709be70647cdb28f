// Warm against cold: create --image from the cache against create --image LAYOUT with an empty cache.
import { iterations } from '../cycle.js';
import { createSubject, digestOf, setUpImageBench } from '../image-create.js';
import { compare, runCommand, spreadNotes, type Goal } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  'The ~250 MB generated image on a zfs-fuse pool. Baseline: a cold create — `berth create --image LAYOUT ID` after ' +
  '`berth image rm` (untimed), so the create verifies, unpacks and seals the template, then clones it. Candidate: a ' +
  'warm create — `berth create --image DIGEST ID` with the image cached. Each container is deleted after its ' +
  'sample, untimed.';

export const goal: Goal = { maxRatio: 0.02, text: 'warm create at least 50× faster than cold for the large image (median ratio ≤ 0.02)' };

export async function run(): Promise<ScenarioResult> {
  const b = await setUpImageBench();
  try {
    const digest = digestOf(b.large);
    const cold = createSubject(b, 'cold create, ~250 MB image', () => b.large.layout, async () => void (await runCommand([...b.berth, 'image', 'rm', digest])));
    const warm = createSubject(b, 'warm create, ~250 MB image', () => digest);
    const c = await compare(cold, [warm], { iterations: iterations(3), warmup: 0 });
    return { title: 'Create from a cached image vs a cold cache, ~250 MB image (zfs-fuse)', baseline: c.baseline, candidates: c.candidates, notes: spreadNotes(c) };
  } finally {
    const failures = await b.scope.close();
    if (failures.length) console.error(`cleanup after image-create-cold: ${failures.join('; ')}`);
  }
}
