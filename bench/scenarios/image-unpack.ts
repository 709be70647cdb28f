// Layer unpack throughput: `berth image import` of a generated image of more than 200 MB
// (thousands of small files and some large ones, two gzip layers) into the dir driver, against
// `umoci unpack` and `tar -xzpf` (GNU tar, one call per layer) on the same image. Each sample
// unpacks into a fresh directory; the removal afterwards is not timed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { tempDir } from '../../test/helpers/bundle.js';
import { missing } from '../../test/helpers/host.js';
import { buildOciLayout } from '../../test/helpers/oci-image.js';
import { iterations } from '../cycle.js';
import { generateLargeTree, LARGE_FILES, SMALL_FILES } from '../generated-image.js';
import { CleanupScope, compare, runCommand, spreadNotes, type Goal, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  `A generated image of two gzip layers: ${SMALL_FILES} small files (2–32 KiB, half random, half text-like) in 60 directories, ` +
  `and ${LARGE_FILES} files of 12 MiB (random) — about 250 MB unpacked. Candidates: \`berth image import LAYOUT\` ` +
  '(dir driver: digest and diff_id checks, safe unpack, template sealed, index written; the image is removed after ' +
  'each sample, untimed) and `tar -xzpf` per layer (GNU tar, no checks, no whiteouts: the floor). Baseline: ' +
  '`umoci unpack --image LAYOUT:bench BUNDLE` (digest checks, whiteouts, mtree manifest).';

export const goal: Goal = { maxRatio: 1.0, text: 'berth image import at least as fast as umoci unpack (median ratio ≤ 1.0; tar -x is informational)' };

export async function run(): Promise<ScenarioResult> {
  const gone = missing('umoci', 'tar');
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const tmp = tempDir('berth-bench-unpack-');
    scope.add('temp dir', tmp.remove);
    const src1 = join(tmp.path, 'src1');
    const src2 = join(tmp.path, 'src2');
    generateLargeTree(src1, 1);
    mkdirSync(src2);
    for (let i = 0; i < 1000; i++) writeFileSync(join(src2, `upper${i}`), randomBytes(4096));
    const img = await buildOciLayout(tmp.path, { images: [{ tag: 'bench', layers: [{ dir: src1, compression: 'gzip' }, { dir: src2, compression: 'gzip' }] }] });
    rmSync(src1, { recursive: true });
    rmSync(src2, { recursive: true });
    const config = join(tmp.path, 'config.toml');
    writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${join(tmp.path, 'storage')}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
    const out = (i: number): string => join(tmp.path, `out-${i}`);
    const clean = async (i: number): Promise<void> => rmSync(out(i), { recursive: true, force: true });

    const umoci: Subject = { name: 'umoci unpack', run: async (i) => void (await runCommand(['umoci', 'unpack', '--image', `${img.layout}:bench`, out(i)])), finish: clean };
    const tar: Subject = {
      name: 'tar -xzpf (per layer)',
      prepare: async (i) => mkdirSync(out(i)),
      run: async (i) => {
        for (const l of img.layers[0]!) await runCommand(['tar', '-xzpf', img.blobPath(l.digest), '-C', out(i), '--numeric-owner']);
      },
      finish: clean,
    };
    const berth: Subject = {
      name: 'berth image import',
      run: async () => void (await runCommand([BERTH_BIN, '--config', config, 'image', 'import', img.layout])),
      finish: async () => void (await runCommand([BERTH_BIN, '--config', config, 'image', 'rm', img.manifests[0]!.digest])),
    };
    const c = await compare(umoci, [berth, tar], { iterations: iterations(5), warmup: 1 });
    return { title: 'Image layer unpack (~250 MB): berth image import and tar -x vs umoci unpack', baseline: c.baseline, candidates: c.candidates, notes: spreadNotes(c) };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after image-unpack: ${failures.join('; ')}`);
  }
}
