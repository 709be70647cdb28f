// The lxc backend's cost per verb (create, start, state, delete --force) against crun-cli's, and
// why the backend drives LXC's tools rather than liblxc through koffi: in a one-shot command
// loading liblxc costs more than the tool call it would save (measured here too).
import { mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { lxcHelpersMissing, missing } from '../../test/helpers/host.js';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { benchBundle, iterations } from '../cycle.js';
import { CleanupScope, compare, median, runCommand, spreadNotes, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  'One container life through berth, verb by verb — `create`, `start`, `state`, `delete --force` (four processes) — ' +
  'with `--runtime lxc` against the same with `--runtime crun-cli` (baseline), same busybox bundle. The notes give the ' +
  'median of each verb. Then, in this process, what liblxc through koffi would cost: loading koffi and liblxc once, and ' +
  '`lxc_container_new` + `state()` per call, against `lxc-info -s` (the tool berth runs), for a stopped container.';

const VERBS = ['create', 'start', 'state', 'delete'] as const;

export async function run(): Promise<ScenarioResult> {
  const gone = missing('crun', 'lxc-info', 'node') ?? lxcHelpersMissing();
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const bundle = benchBundle(scope, 'berth-bench-lxc-');
    const roots = mkdtempSync(join(tmpdir(), 'berth-bench-lxc-roots-'));
    scope.add(`temp dir ${roots}`, () => rmSync(roots, { recursive: true, force: true }));
    const live = new Map<string, string>();
    scope.add('leftover containers', async () => {
      for (const [id, root] of live) await runCommand([BERTH_BIN, '--root', root, 'delete', '--force', id], { check: false });
    });

    const perVerb: Record<string, Record<string, number[]>> = {};
    const subject = (backend: string): Subject => {
      const root = join(roots, backend);
      perVerb[backend] = Object.fromEntries(VERBS.map((v) => [v, [] as number[]]));
      const id = (i: number): string => `bench-lxc-${backend}-${process.pid}-${i}`;
      return {
        name: `berth --runtime ${backend}`,
        prepare: async (i) => void live.set(id(i), root),
        run: async (i) => {
          const b = [BERTH_BIN, '--root', root];
          const steps: Record<(typeof VERBS)[number], string[]> = {
            create: [...b, '--runtime', backend, 'create', '--bundle', bundle, id(i)],
            start: [...b, 'start', id(i)],
            state: [...b, 'state', id(i)],
            delete: [...b, 'delete', '--force', id(i)],
          };
          for (const v of VERBS) perVerb[backend]![v]!.push((await runCommand(steps[v])).ms);
        },
        finish: async (i) => void live.delete(id(i)),
      };
    };
    const c = await compare(subject('crun-cli'), [subject('lxc')], { iterations: iterations(10), warmup: 2 });
    const verbs = (backend: string): string => VERBS.map((v) => `${v} ${median(perVerb[backend]![v]!.slice(-c.baseline.iterations)).toFixed(1)} ms`).join(', ');
    return {
      title: 'lxc backend: one container life, verb by verb, vs crun-cli',
      baseline: c.baseline,
      candidates: c.candidates,
      notes: `Medians per verb — lxc: ${verbs('lxc')}; crun-cli: ${verbs('crun-cli')}.\n${await koffiVsTool(roots, scope)}\n${spreadNotes(c)}`,
    };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after lxc: ${failures.join('; ')}`);
  }
}

/** liblxc through koffi vs lxc-info, on a defined (stopped) container: the choice in docs/backends/lxc.md. */
async function koffiVsTool(roots: string, scope: CleanupScope): Promise<string> {
  const lxcpath = join(roots, 'koffi');
  rmSync(lxcpath, { recursive: true, force: true });
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(lxcpath, 'c'), { recursive: true });
  writeFileSync(join(lxcpath, 'c', 'config'), 'lxc.rootfs.path = dir:/nonexistent\n');
  scope.add('koffi container', () => {
    rmSync(lxcpath, { recursive: true, force: true });
    // LXC's lock directory for this lxcpath (liblxc and lxc-info make it), up to its own root.
    rmSync(join('/run/lxc/lock', lxcpath), { recursive: true, force: true });
    for (let d = join('/run/lxc/lock', roots); d.length > '/run/lxc/lock'.length; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  });
  const t0 = performance.now();
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('liblxc.so.1');
  const newContainer = lib.func('void *lxc_container_new(const char *name, const char *configpath)');
  const put = lib.func('int lxc_container_put(void *c)');
  const StateFn = koffi.proto('const char *berth_lxc_state(void *c)');
  const loadMs = performance.now() - t0;
  const n = iterations(20);
  const viaKoffi: number[] = [];
  const viaTool: number[] = [];
  let state = '';
  for (let i = 0; i < n; i++) {
    const t1 = performance.now();
    const c = newContainer('c', lxcpath);
    // struct lxc_container (lxccontainer.h, LXC 5.0): state() is the function pointer at offset 88.
    state = koffi.call(koffi.decode(c, 88, 'void *'), StateFn, c) as string;
    put(c);
    viaKoffi.push(performance.now() - t1);
    viaTool.push((await runCommand(['lxc-info', '-P', lxcpath, '-n', 'c', '-s', '-H'])).ms);
  }
  return (
    `liblxc through koffi: loading koffi and liblxc ${loadMs.toFixed(1)} ms once, then ${median(viaKoffi).toFixed(2)} ms per ` +
    `lxc_container_new + state() (${state}); lxc-info -s: ${median(viaTool).toFixed(1)} ms per call (medians of ${n}).`
  );
}
