// Creating a container from an image on a real zfs-fuse pool, shared by the image-create-warm and
// image-create-cold scenarios: a small image (~10 MB: busybox + 8 MiB) and one or more large
// generated ones (~250 MB for the warm scenario; ~1 GB and ~2 GB for the cold one), imported
// once; each sample is `berth create --image … ID` (the container's init then waits for start),
// and the container is deleted afterwards, untimed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_BIN } from '../test/helpers/paths.js';
import { tempDir } from '../test/helpers/bundle.js';
import { missing } from '../test/helpers/host.js';
import { buildOciLayout, busyboxLayerDir, type BuiltLayout } from '../test/helpers/oci-image.js';
import { createTestPool, startZfs, zfsSkipReason } from '../test/helpers/zfs.js';
import { generateLargeTree } from './generated-image.js';
import { CleanupScope, runCommand, type Subject } from './measure.js';

export interface ImageBench {
  /** berth's argv prefix: binary, --config, --root, --runtime. */
  berth: string[];
  small: BuiltLayout;
  /** One per entry of `largeFiles`, in that order. */
  large: BuiltLayout[];
  scope: CleanupScope;
}

const CMD = { Cmd: ['sleep', '300'], Env: ['PATH=/bin'] };

/** Files of the upper tree per layer beyond the first: Node reads a layer whole, and at most 2 GiB. */
const LARGE_FILES_PER_LAYER = 64;

async function layout(dir: string, tag: string, extra: (d: string) => void): Promise<BuiltLayout> {
  const base = busyboxLayerDir(join(dir, 'base'));
  const upper = join(dir, 'upper');
  mkdirSync(upper);
  extra(upper);
  // Large files beyond the first LARGE_FILES_PER_LAYER go to further layers, as big images have them.
  const uppers = [upper];
  const large = readdirSync(upper).filter((n) => /^large\d+$/.test(n)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  for (let from = LARGE_FILES_PER_LAYER; from < large.length; from += LARGE_FILES_PER_LAYER) {
    const next = join(dir, `upper${uppers.length}`);
    mkdirSync(next);
    for (const name of large.slice(from, from + LARGE_FILES_PER_LAYER)) renameSync(join(upper, name), join(next, name));
    uppers.push(next);
  }
  const layers = [base, ...uppers].map((d) => ({ dir: d, compression: 'gzip' as const }));
  const built = await buildOciLayout(dir, { images: [{ tag, config: CMD, layers }] });
  for (const d of [base, ...uppers]) rmSync(d, { recursive: true });
  // buildOciLayout leaves each layer's plain tar beside the layout: gigabytes for the large images.
  for (const name of readdirSync(dir)) if (/^layer-.*\.tar$/.test(name)) rmSync(join(dir, name));
  return built;
}

/** largeFiles: each large image's count of 12 MiB files (12: about 250 MB; 76: about 1 GB; 400: about 5 GB). */
async function setUpImageBench(largeFiles: number[] = [12]): Promise<ImageBench> {
  const gone = missing('crun', 'busybox') ?? zfsSkipReason();
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const tmp = tempDir('berth-bench-image-create-');
    scope.add('temp dir', tmp.remove);
    const daemon = await startZfs();
    scope.add('zfs-fuse', () => daemon.stop());
    // Room for every template, plus one more copy of the largest (a cold create unpacks it again).
    const gib = Math.ceil((12 * 1024 * 1024 * (largeFiles.reduce((a, n) => a + n, 0) + Math.max(...largeFiles)) + 300e6) / 2 ** 30) + 1;
    const pool = await createTestPool(daemon.cli, `${gib}G`);
    scope.add(`pool ${pool.name}`, () => pool.destroy());
    const dataset = `${pool.name}/berth`;
    await daemon.cli.create(dataset);
    const config = join(tmp.path, 'config.toml');
    writeFileSync(config, `[storage]\ndriver = "zfs"\ndataset = "${dataset}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
    const berth = [BERTH_BIN, '--config', config, '--root', join(tmp.path, 'root'), '--runtime', 'crun-cli'];
    const small = await layout(join(tmp.path, 'small'), 'small', (d) => writeFileSync(join(d, 'payload'), randomBytes(8 * 1024 * 1024)));
    const large: BuiltLayout[] = [];
    for (const [i, files] of largeFiles.entries()) large.push(await layout(join(tmp.path, `large${i}`), `large${i}`, (d) => generateLargeTree(d, i + 1, files)));
    for (const l of [small, ...large]) await runCommand([...berth, 'image', 'import', l.layout], { timeoutMs: 1_200_000 });
    // Registered last, so it runs first: no container may outlive the pool.
    scope.add('containers', () => runCommand([...berth, 'delete', '--force', 'leftover'], { check: false }));
    return { berth, small, large, scope };
  } catch (err) {
    await scope.close();
    throw err;
  }
}

/** Runs a scenario over a fresh image bench, then tears it down (its failures reported, not thrown). */
export async function withImageBench<T>(scenario: string, largeFiles: number[], fn: (b: ImageBench) => Promise<T>): Promise<T> {
  const b = await setUpImageBench(largeFiles);
  try {
    return await fn(b);
  } finally {
    const failures = await b.scope.close();
    if (failures.length) console.error(`cleanup after ${scenario}: ${failures.join('; ')}`);
  }
}

/** `create --image IMAGE ID` timed; `delete --force ID` afterwards, untimed. */
export function createSubject(b: ImageBench, name: string, image: (i: number) => string, prepare?: (i: number) => Promise<void>): Subject {
  const id = (i: number): string => `bench-${i}`;
  return {
    name,
    prepare,
    run: async (i) => void (await runCommand([...b.berth, 'create', '--image', image(i), id(i)], { timeoutMs: 1_200_000 })),
    finish: async (i) => void (await runCommand([...b.berth, 'delete', '--force', id(i)])),
  };
}

export function digestOf(l: BuiltLayout): string {
  return l.manifests[0]!.digest;
}
