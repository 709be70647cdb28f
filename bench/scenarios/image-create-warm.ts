// Warm create is flat in image size: create --image from the cache, a ~250 MB image against a ~10 MB one.
import { iterations } from '../cycle.js';
import { createSubject, digestOf, withImageBench } from '../image-create.js';
import { join } from 'node:path';
import { makeBusyboxBundle, tempDir } from '../../test/helpers/bundle.js';
import { compare, runCommand, spreadNotes, type Goal, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  '`berth create --image DIGEST ID` (crun-cli) from the image cache on a zfs-fuse pool: the container volume is one ' +
  '`zfs clone` of the image template, whatever its size. Baseline: a ~10 MB image (busybox + 8 MiB). Candidate: a ' +
  '~250 MB generated image (6000 small files, 12 × 12 MiB). Both imported before timing; each container is deleted ' +
  'after its sample, untimed. The notes add, from the same run, a `berth create --bundle DIR ID` of a busybox ' +
  'bundle (no image): what any create costs, so the difference is what the image path adds.';

export const goal: Goal = { maxRatio: 1.2, text: 'warm create flat in image size: the large image within 1.2× of the small one' };

/** `create --bundle DIR ID` of one busybox bundle (each id its own container), deleted untimed. */
function bundleSubject(berth: string[]): Subject & { remove(): void } {
  const dir = tempDir('berth-bench-bundle-');
  const bundle = makeBusyboxBundle(join(dir.path, 'bundle'));
  const id = (i: number): string => `bench-bundle-${i}`;
  return {
    name: 'create --bundle (no image)',
    run: async (i) => void (await runCommand([...berth, 'create', '--bundle', bundle, id(i)])),
    finish: async (i) => void (await runCommand([...berth, 'delete', '--force', id(i)])),
    remove: dir.remove,
  };
}

export function run(): Promise<ScenarioResult> {
  return withImageBench('image-create-warm', [12], async (b) => {
    const small = createSubject(b, 'warm create, ~10 MB image', () => digestOf(b.small));
    const large = createSubject(b, 'warm create, ~250 MB image', () => digestOf(b.large[0]!));
    const c = await compare(small, [large], { iterations: iterations(10), warmup: 1 });
    const plainCreate = bundleSubject(b.berth);
    b.scope.add('bundle', plainCreate.remove);
    const floor = await compare(plainCreate, [], { iterations: iterations(10), warmup: 1 });
    const image = c.baseline.medianMs;
    const plain = floor.baseline.medianMs;
    const notes = [
      `create --bundle (no image), same run: ${plain.toFixed(0)} ms median; a warm create --image adds ${(image - plain).toFixed(0)} ms (the ~10 MB image's median).`,
      spreadNotes(c),
      spreadNotes(floor),
    ].join('\n');
    return { title: 'Create from a cached image: ~250 MB vs ~10 MB (zfs-fuse clones)', baseline: c.baseline, candidates: c.candidates, notes };
  });
}
