// Warm create is flat in image size: create --image from the cache, a ~250 MB image against a ~10 MB one.
import { iterations } from '../cycle.js';
import { createSubject, digestOf, setUpImageBench } from '../image-create.js';
import { compare, spreadNotes, type Goal } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  '`berth create --image DIGEST ID` (crun-cli) from the image cache on a zfs-fuse pool: the container volume is one ' +
  '`zfs clone` of the image template, whatever its size. Baseline: a ~10 MB image (busybox + 8 MiB). Candidate: a ' +
  '~250 MB generated image (6000 small files, 12 × 12 MiB). Both imported before timing; each container is deleted ' +
  'after its sample, untimed.';

export const goal: Goal = { maxRatio: 1.2, text: 'warm create flat in image size: the large image within 1.2× of the small one' };

export async function run(): Promise<ScenarioResult> {
  const b = await setUpImageBench();
  try {
    const small = createSubject(b, 'warm create, ~10 MB image', () => digestOf(b.small));
    const large = createSubject(b, 'warm create, ~250 MB image', () => digestOf(b.large));
    const c = await compare(small, [large], { iterations: iterations(10), warmup: 1 });
    return { title: 'Create from a cached image: ~250 MB vs ~10 MB (zfs-fuse clones)', baseline: c.baseline, candidates: c.candidates, notes: spreadNotes(c) };
  } finally {
    const failures = await b.scope.close();
    if (failures.length) console.error(`cleanup after image-create-warm: ${failures.join('; ')}`);
  }
}
