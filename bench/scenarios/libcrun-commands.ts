// Whole berth commands: a container cycle through `berth --runtime crun-abi` against
// `berth --runtime crun-cli`. Each berth process that opens crun-abi starts its own worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libcrunMissing, missing } from '../../test/helpers/host.js';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { benchBundle, forceRemoveBerthContainer, iterations } from '../cycle.js';
import { CleanupScope, compare, runCommand, spreadNotes, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  'Whole commands, as containerd\'s shim runs them: `berth --runtime R create --bundle B ID`, `berth start ID`, ' +
  '`berth delete --force ID`, timed as a whole (three berth processes). Baseline: R = crun-cli (each verb ' +
  'spawns crun). Candidate: R = crun-abi (each verb that reaches the backend starts the libcrun worker from a ' +
  'sealed copy of Node first). Informational: it shows what the re-exec defence costs a short-lived process.';

export async function run(): Promise<ScenarioResult> {
  const gone = missing('crun', 'node') ?? libcrunMissing();
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const bundle = benchBundle(scope, 'berth-bench-libcrun-cmd-');
    const root = mkdtempSync(join(tmpdir(), 'berth-bench-libcrun-cmd-root-'));
    scope.add(`temp dir ${root}`, () => rmSync(root, { recursive: true, force: true }));
    const live = new Set<string>();
    scope.add('leftover containers', async () => {
      for (const id of live) await forceRemoveBerthContainer(root, id, 'crun');
    });
    const subject = (runtime: 'crun-abi' | 'crun-cli'): Subject => {
      const idOf = (i: number): string => `bench-cmd-${runtime}-${process.pid}-${i}`;
      return {
        name: `berth --runtime ${runtime}`,
        prepare: async (i) => void live.add(idOf(i)),
        run: async (i) => {
          const b = [BERTH_BIN, '--root', root];
          await runCommand([...b, '--runtime', runtime, 'create', '--bundle', bundle, idOf(i)]);
          await runCommand([...b, 'start', idOf(i)]);
          await runCommand([...b, 'delete', '--force', idOf(i)]);
        },
        finish: async (i) => void live.delete(idOf(i)),
      };
    };
    const c = await compare(subject('crun-cli'), [subject('crun-abi')], { iterations: iterations(15), warmup: 2 });
    return {
      title: 'Whole commands: berth --runtime crun-abi vs --runtime crun-cli (create, start, delete --force)',
      baseline: c.baseline,
      candidates: c.candidates,
      notes: spreadNotes(c),
    };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after libcrun-commands: ${failures.join('; ')}`);
  }
}
