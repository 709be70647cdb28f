// Bundles the runtime spec allows, on every backend, with raw crun and raw runc as the yardstick
// in the same run: what they run, berth must run. root.path "." (the bundle itself), a relative
// root.path outside the bundle, and every ociVersion from 1.0.0 to 1.3.x.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth } from '../helpers/berth.js';
import { busyboxConfig, makeBusyboxRootfs, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS, missing } from '../helpers/host.js';

const tmp = tempDir('berth-bundles-');
after(() => tmp.remove());

/** The container's exit code tells that it really ran (and ran this config). */
const EXIT = 7;
let seq = 0;

interface Variant {
  name: string;
  /** Makes the bundle in `dir`; returns it. */
  make: (dir: string) => string;
  /** crun 1.8.1 accepts ociVersion 1.0.x and 1.1.x only ("unknown version specified"). */
  rawCrunRefuses?: boolean;
}

function writeConfig(dir: string, edit: (c: Record<string, any>) => void): void {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(busyboxConfig({ args: ['sh', '-c', `exit ${EXIT}`], edit }), null, 2));
}

/** One busybox rootfs for the bundles that point outside themselves. */
let shared: string | undefined;
function sharedRootfs(): string {
  if (!shared) {
    shared = join(tmp.path, 'shared-rootfs');
    makeBusyboxRootfs(shared);
  }
  return shared;
}

function withRootfs(dir: string, edit: (c: Record<string, any>) => void): string {
  mkdirSync(dir, { recursive: true });
  makeBusyboxRootfs(join(dir, 'rootfs'));
  writeConfig(dir, edit);
  return dir;
}

const VARIANTS: Variant[] = [
  {
    name: 'root.path "." (the bundle directory is the root filesystem)',
    make: (dir) => {
      makeBusyboxRootfs(dir);
      writeConfig(dir, (c) => (c.root.path = '.'));
      return dir;
    },
  },
  {
    name: 'a relative root.path outside the bundle',
    make: (dir) => {
      sharedRootfs();
      mkdirSync(dir, { recursive: true });
      writeConfig(dir, (c) => (c.root.path = '../shared-rootfs'));
      return dir;
    },
  },
  {
    name: 'unknown fields at every level (kept and passed on)',
    make: (dir) =>
      withRootfs(dir, (c) => {
        c['org.example.vendor'] = { any: ['thing', 1] };
        c.process.futureField = true;
        c.linux.futureThing = { x: 1 };
        c.root.futureFlag = 'y';
      }),
  },
  {
    name: 'a bind mount with a source relative to the bundle',
    make: (dir) => {
      withRootfs(dir, (c) => {
        c.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] });
        // The container proves it sees the bundle's data/ by its exit code.
        c.process.args = ['sh', '-c', `test "$(cat /data/marker)" = here && exit ${EXIT}`];
      });
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data', 'marker'), 'here');
      return dir;
    },
  },
  ...['1.0.0', '1.0.2', '1.1.0', '1.2.0', '1.3.0'].map((v) => ({
    name: `ociVersion ${v}`,
    make: (dir: string) => withRootfs(dir, (c) => (c.ociVersion = v)),
    rawCrunRefuses: !/^1\.[01]\./.test(v),
  })),
];

/** The raw tool's foreground run: its exit code is the container's. */
function rawRun(tool: 'crun' | 'runc', bundle: string): { code: number | null; stderr: string } {
  const root = join(tmp.path, `raw-${tool}-${seq}`);
  const r = spawnSync(tool, ['--root', root, 'run', '--bundle', bundle, `bundles-raw-${seq++}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stderr: r.stderr };
}

describe('bundles the spec allows: raw crun and runc run them, so must berth', { skip: missing('crun', 'runc', 'busybox') }, () => {
  for (const v of VARIANTS) {
    describe(v.name, () => {
      const bundle = v.make(join(tmp.path, `bundle-${seq++}`));

      for (const tool of ['crun', 'runc'] as const) {
        test(`raw ${tool} (the yardstick)`, () => {
          const r = rawRun(tool, bundle);
          if (tool === 'crun' && v.rawCrunRefuses) {
            // The gap berth bridges: it hands crun a config with an ociVersion crun knows.
            assert.notEqual(r.code, EXIT);
            assert.match(r.stderr, /unknown version specified/);
            return;
          }
          assert.equal(r.code, EXIT, `raw ${tool} run: ${r.stderr.trim()}`);
        });
      }

      for (const { name: backend, skip, ids } of ALL_BACKENDS) {
        test(`berth on ${backend}`, { skip }, async () => {
          const root = join(tmp.path, `root-${backend}-${seq++}`);
          const id = `bundles-${seq++}`;
          const r = await berth(['--root', root, '--runtime', backend, 'run', '--bundle', bundle, id]);
          assert.equal(r.code, EXIT, `berth run on ${backend}: ${r.stderr.trim()}`);
          // A foreground run removes its container (as runc run does).
          assert.deepEqual(ids(root), [], `${backend} keeps no container after run`);
          const d = await berth(['--root', root, '--runtime', backend, 'run', '--detach', '--bundle', bundle, `${id}-d`]);
          assert.equal(d.code, 0, `run --detach on ${backend}: ${d.stderr.trim()}`);
          const rm = await berth(['--root', root, 'delete', '--force', `${id}-d`]);
          assert.equal(rm.code, 0, rm.stderr);
        });
      }
    });
  }
});
