// A registry pull against the two-tool path a user has without it: `skopeo copy` to an OCI
// layout, then `berth image import`; and a re-pull of an image that is cached whole.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { tempDir } from '../../test/helpers/bundle.js';
import { missing } from '../../test/helpers/host.js';
import { buildOciLayout, busyboxLayerDir } from '../../test/helpers/oci-image.js';
import { skopeoWith, startRegistry } from '../../test/helpers/registry.js';
import { iterations } from '../cycle.js';
import { generateLargeTree } from '../generated-image.js';
import { CleanupScope, compare, runCommand, spreadNotes, type Goal, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  'A four-layer image of about 110 MB (busybox; 6000 small files and 4 × 12 MiB; 3 × 12 MiB; a small config layer), ' +
  "gzip-compressed, served by Debian's docker-registry on loopback; the dir storage driver. Baseline: `skopeo copy " +
  'docker://… oci:DIR:1` then `berth image import DIR:1` (the layout removed and the image uncached first, untimed). ' +
  "Candidate: `berth image pull` with the image uncached and berth's blob store emptied first (untimed): every blob " +
  'downloaded, verified and unpacked. The re-pull of the image while it is cached is in the notes, against the cold pull.';

export const goal: Goal = { maxRatio: 1 / 1.5, text: 'a pull at least 1.5× faster than skopeo copy + image import (median ratio ≤ 0.67)' };

export async function run(): Promise<ScenarioResult> {
  const gone = missing('docker-registry', 'skopeo', 'busybox');
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const tmp = tempDir('berth-bench-image-pull-');
    scope.add('temp dir', tmp.remove);
    const state = join(tmp.path, 'state');
    const config = join(tmp.path, 'config.toml');
    writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${join(tmp.path, 'storage')}"\nstate_dir = "${state}"\n`);
    const berth = [BERTH_BIN, '--config', config, '--root', join(tmp.path, 'root')];

    const registry = await startRegistry(tmp.path, 'registry');
    scope.add('docker-registry', () => registry.daemon.stop());
    const work = join(tmp.path, 'image');
    mkdirSync(work);
    const upper = join(work, 'upper');
    const more = join(work, 'more');
    const extra = join(work, 'extra');
    generateLargeTree(upper, 1, 4);
    mkdirSync(more);
    for (let i = 0; i < 3; i++) writeFileSync(join(more, `blob${i}`), randomBytes(12 * 1024 * 1024));
    mkdirSync(join(extra, 'etc'), { recursive: true });
    writeFileSync(join(extra, 'etc', 'bench.conf'), 'bench = 1\n');
    const layout = await buildOciLayout(join(work, 'layout'), {
      images: [{ tag: '1', config: { Cmd: ['sh'], Env: ['PATH=/bin'] }, layers: [busybox(work), upper, more, extra].map((dir) => ({ dir, compression: 'gzip' as const })) }],
    });
    const { skopeo } = skopeoWith(tmp.path);
    const ref = `${registry.host}/bench/pull:1`;
    skopeo('copy', '--dest-tls-verify=false', `oci:${layout.layout}:1`, `docker://${ref}`);

    const uncache = async (): Promise<void> => {
      for (const name of [ref, 'bench/imported:1']) await runCommand([...berth, 'image', 'rm', name], { check: false });
      rmSync(join(state, 'images', 'blobs'), { recursive: true, force: true });
      rmSync(join(state, 'images', 'partial'), { recursive: true, force: true });
    };
    const copied = join(tmp.path, 'copied');
    const twoTools: Subject = {
      name: 'skopeo copy + berth image import',
      prepare: async () => {
        await uncache();
        rmSync(copied, { recursive: true, force: true });
      },
      run: async () => {
        await runCommand(['skopeo', '--policy', join(tmp.path, 'policy.json'), 'copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${copied}:1`], { timeoutMs: 600_000 });
        await runCommand([...berth, 'image', 'import', `${copied}:1`, '--name', 'bench/imported:1'], { timeoutMs: 600_000 });
      },
    };
    const pull: Subject = { name: 'berth image pull (nothing cached)', prepare: uncache, run: async () => void (await runCommand([...berth, 'image', 'pull', '--tls-verify=false', ref], { timeoutMs: 600_000 })) };
    const repull: Subject = {
      name: 'berth image pull (cached)',
      prepare: async () => void (await runCommand([...berth, 'image', 'pull', '--tls-verify=false', ref], { timeoutMs: 600_000 })),
      run: async () => void (await runCommand([...berth, 'image', 'pull', '--tls-verify=false', ref])),
    };
    const c = await compare(twoTools, [pull, repull], { iterations: iterations(5), warmup: 1 });
    const [cold, warm] = [c.candidates[0]!, c.candidates[1]!];
    const notes = [
      `Re-pull of the cached image: ${warm.medianMs.toFixed(0)} ms against ${cold.medianMs.toFixed(0)} ms for the cold pull (medians): ` +
        `${(cold.medianMs / warm.medianMs).toFixed(0)}× faster (goal ≥ 20×: ${cold.medianMs / warm.medianMs >= 20 ? 'met' : 'not met'}); ` +
        'it asks the registry for the manifest only.',
      spreadNotes(c),
    ].join('\n');
    return { title: 'Pull from a registry vs skopeo copy + image import (~110 MB, 4 layers, dir driver)', baseline: c.baseline, candidates: [cold], notes };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after image-pull: ${failures.join('; ')}`);
  }
}

function busybox(work: string): string {
  return busyboxLayerDir(join(work, 'base'));
}
