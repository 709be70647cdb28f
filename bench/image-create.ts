// Creating a container from an image on a real zfs-fuse pool, shared by the image-create-warm and
// image-create-cold scenarios: a small (~10 MB: busybox + 8 MiB) and a large (generated: ~250 MB,
// or ~1 GB for the cold scenario) image, imported once; each sample is `berth create --image … ID` (the container's init then
// waits for start), and the container is deleted afterwards, untimed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  large: BuiltLayout;
  scope: CleanupScope;
}

const CMD = { Cmd: ['sleep', '300'], Env: ['PATH=/bin'] };

async function layout(dir: string, tag: string, extra: (d: string) => void): Promise<BuiltLayout> {
  const base = busyboxLayerDir(join(dir, 'base'));
  const upper = join(dir, 'upper');
  mkdirSync(upper);
  extra(upper);
  const built = await buildOciLayout(dir, { images: [{ tag, config: CMD, layers: [{ dir: base, compression: 'gzip' }, { dir: upper, compression: 'gzip' }] }] });
  rmSync(base, { recursive: true });
  rmSync(upper, { recursive: true });
  return built;
}

/** largeFiles: the large image's 12 MiB files (12: about 250 MB; 76: about 1 GB). */
export async function setUpImageBench(largeFiles = 12): Promise<ImageBench> {
  const gone = missing('crun', 'busybox') ?? zfsSkipReason();
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const tmp = tempDir('berth-bench-image-create-');
    scope.add('temp dir', tmp.remove);
    const daemon = await startZfs();
    scope.add('zfs-fuse', () => daemon.stop());
    const pool = await createTestPool(daemon.cli, largeFiles > 12 ? '4G' : '2G');
    scope.add(`pool ${pool.name}`, () => pool.destroy());
    const dataset = `${pool.name}/berth`;
    await daemon.cli.create(dataset);
    const config = join(tmp.path, 'config.toml');
    writeFileSync(config, `[storage]\ndriver = "zfs"\ndataset = "${dataset}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
    const berth = [BERTH_BIN, '--config', config, '--root', join(tmp.path, 'root'), '--runtime', 'crun-cli'];
    const small = await layout(join(tmp.path, 'small'), 'small', (d) => writeFileSync(join(d, 'payload'), randomBytes(8 * 1024 * 1024)));
    const large = await layout(join(tmp.path, 'large'), 'large', (d) => generateLargeTree(d, 1, largeFiles));
    for (const l of [small, large]) await runCommand([...berth, 'image', 'import', l.layout], { timeoutMs: 600_000 });
    // Registered last, so it runs first: no container may outlive the pool.
    scope.add('containers', () => runCommand([...berth, 'delete', '--force', 'leftover'], { check: false }));
    return { berth, small, large, scope };
  } catch (err) {
    await scope.close();
    throw err;
  }
}

/** `create --image IMAGE ID` timed; `delete --force ID` afterwards, untimed. */
export function createSubject(b: ImageBench, name: string, image: (i: number) => string, prepare?: (i: number) => Promise<void>): Subject {
  const id = (i: number): string => `bench-${i}`;
  return {
    name,
    prepare,
    run: async (i) => void (await runCommand([...b.berth, 'create', '--image', image(i), id(i)], { timeoutMs: 600_000 })),
    finish: async (i) => void (await runCommand([...b.berth, 'delete', '--force', id(i)])),
  };
}

export function digestOf(l: BuiltLayout): string {
  return l.manifests[0]!.digest;
}
