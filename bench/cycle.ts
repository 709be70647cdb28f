// A container's whole life, create → start → delete --force, through berth (with one backend)
// against the same three calls made to that backend's binary directly, with the same bundle.
// Shared by scenarios/cycle-crun.ts and scenarios/cycle-runc.ts; startup.ts uses the cleanup
// helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_BIN } from '../test/helpers/paths.js';
import { makeBusyboxBundle, tempDir } from '../test/helpers/bundle.js';
import { missing } from '../test/helpers/host.js';
import { CleanupScope, compare, runCommand, spreadNotes, type Subject } from './measure.js';
import type { ScenarioResult } from './scenario.js';
import { berthStateDir } from '../src/core/state-root.js';

export type BackendName = 'crun' | 'runc';

/** BENCH_ITERATIONS overrides every scenario's iteration count (e.g. 3 for a quick check). */
export function iterations(dflt: number): number {
  const v = Number(process.env.BENCH_ITERATIONS);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}

/** The container's process: it keeps running until delete --force kills it, for every subject. */
export const CONTAINER_ARGS = ['sleep', '300'];

/** Removes a container from a berth root, then (in case berth could not) from its backend's root. */
export async function forceRemoveBerthContainer(root: string, id: string, backend: BackendName): Promise<void> {
  const viaBerth = await runCommand([BERTH_BIN, '--root', root, 'delete', '--force', id], { check: false });
  await forceRemoveRawContainer(backend, join(berthStateDir(root), backend), id);
  if (viaBerth.code !== 0 && !/does not exist/.test(viaBerth.stderr)) {
    throw new Error(`berth delete --force ${id}: ${viaBerth.stderr.trim()}`);
  }
}

export async function forceRemoveRawContainer(backend: BackendName, root: string, id: string): Promise<void> {
  const r = await runCommand([backend, '--root', root, 'delete', '--force', id], { check: false });
  if (r.code !== 0 && !/does not exist|not found|no such file/i.test(r.stderr)) {
    throw new Error(`${backend} delete --force ${id}: ${r.stderr.trim()}`);
  }
}

/** A bundle of the test helpers' busybox config running CONTAINER_ARGS, in a temp dir owned by scope. */
export function benchBundle(scope: CleanupScope, prefix: string): string {
  const tmp = tempDir(prefix);
  scope.add(`temp dir ${tmp.path}`, tmp.remove);
  return makeBusyboxBundle(join(tmp.path, 'bundle'), { args: CONTAINER_ARGS });
}

/** The berth backend that drives `backend`'s binary (crun itself is auto: it may pick libcrun). */
export function berthName(backend: BackendName): string {
  return backend === 'crun' ? 'crun-cli' : backend;
}

export function cycleDescription(backend: BackendName): string {
  return (
    `One container life cycle — \`create --bundle B ID\`, \`start ID\`, \`delete --force ID\` — timed as a whole ` +
    `(three processes in a row). Candidate: \`berth --root R --runtime ${berthName(backend)} …\` (berth's create/start/delete ` +
    `call \`${backend}\` in turn). Baseline: the same three calls to \`${backend} --root X …\` directly. Same busybox ` +
    `bundle (\`${CONTAINER_ARGS.join(' ')}\`, killed by \`delete --force\`), a fresh container id each iteration, ` +
    `both state roots in the same temp dir. The ratio is berth's whole per-cycle overhead: three Node start-ups, ` +
    `its record writes (fsync'd) and locking, and the extra flags it passes (\`--log\`, \`--pid-file\`).`
  );
}

export async function cycleScenario(backend: BackendName): Promise<ScenarioResult> {
  const gone = missing(backend, 'node');
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const bundle = benchBundle(scope, `berth-bench-cycle-${backend}-`);
    const roots = mkdtempSync(join(tmpdir(), `berth-bench-${backend}-roots-`));
    const rawRoot = join(roots, 'raw');
    const berthRoot = join(roots, 'berth');
    // Registered before any container exists, so it runs after the container removals below.
    scope.add(`temp dir ${roots}`, () => rmSync(roots, { recursive: true, force: true }));

    // Ids that may exist right now, per root: whatever is left when the scope closes is removed.
    const live = { raw: new Set<string>(), berth: new Set<string>() };
    scope.add('leftover containers', async () => {
      const errors: string[] = [];
      for (const id of live.berth) await forceRemoveBerthContainer(berthRoot, id, backend).catch((e: Error) => errors.push(e.message));
      for (const id of live.raw) await forceRemoveRawContainer(backend, rawRoot, id).catch((e: Error) => errors.push(e.message));
      if (errors.length) throw new Error(errors.join('; '));
    });

    const idOf = (kind: string, i: number): string => `bench-${backend}-${kind}-${process.pid}-${i}`;
    const raw: Subject = {
      name: `${backend} (direct)`,
      prepare: async (i) => void live.raw.add(idOf('raw', i)),
      run: async (i) => {
        const id = idOf('raw', i);
        const rt = [backend, '--root', rawRoot];
        await runCommand([...rt, 'create', '--bundle', bundle, id]);
        await runCommand([...rt, 'start', id]);
        await runCommand([...rt, 'delete', '--force', id]);
      },
      finish: async (i) => void live.raw.delete(idOf('raw', i)),
    };
    const viaBerth: Subject = {
      name: `berth --runtime ${berthName(backend)}`,
      prepare: async (i) => void live.berth.add(idOf('berth', i)),
      run: async (i) => {
        const id = idOf('berth', i);
        const b = [BERTH_BIN, '--root', berthRoot];
        await runCommand([...b, '--runtime', berthName(backend), 'create', '--bundle', bundle, id]);
        await runCommand([...b, 'start', id]);
        await runCommand([...b, 'delete', '--force', id]);
      },
      finish: async (i) => void live.berth.delete(idOf('berth', i)),
    };

    const n = iterations(15);
    const c = await compare(raw, [viaBerth], { iterations: n, warmup: 2 });
    const perCycle = c.candidates[0]!.medianMs - c.baseline.medianMs;
    return {
      title: `Container cycle via berth vs ${backend} directly`,
      baseline: c.baseline,
      candidates: c.candidates,
      notes: `berth adds ${perCycle.toFixed(1)} ms per cycle (median), ${(perCycle / 3).toFixed(1)} ms per berth call.\n${spreadNotes(c)}`,
    };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after cycle-${backend}: ${failures.join('; ')}`);
  }
}
