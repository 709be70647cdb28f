// berth's cost per invocation: a verb that does no work beyond start-up (--version) and the
// cheapest verb that reads a container (state), against Node starting and doing nothing.
import { join } from 'node:path';
import { berthOk } from '../../test/helpers/berth.js';
import { missing } from '../../test/helpers/host.js';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { benchBundle, forceRemoveBerthContainer, iterations } from '../cycle.js';
import { CleanupScope, commandSubject, compare, runCommand, spreadNotes, type Goal } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  'berth\'s per-invocation cost. Candidates: `berth --version` (argument parsing and the lazily loaded ' +
  'version module only) and `berth --root R state ID` of an existing container (created with `--runtime crun-cli`, ' +
  'so reading its state touches its record and /proc only, no backend process). Baseline: `node -e 0`, the ' +
  'floor for any Node CLI. Each run is one process spawned and waited for, via bin/berth ' +
  '(`#!/usr/bin/env node`) as a user or containerd would run it.';

export const goal: Goal = { maxRatio: 1.5, text: 'each berth invocation ≤ 1.5 × `node -e 0` (median ratio)' };

export async function run(): Promise<ScenarioResult> {
  const gone = missing('crun', 'node');
  if (gone) throw new Error(gone);
  const scope = new CleanupScope();
  try {
    const bundle = benchBundle(scope, 'berth-bench-startup-');
    const root = join(bundle, '..', 'root');
    const id = `bench-startup-${process.pid}`;
    scope.add(`container ${id}`, () => forceRemoveBerthContainer(root, id, 'crun'));
    await runCommand([BERTH_BIN, '--root', root, '--runtime', 'crun-cli', 'create', '--bundle', bundle, id]);
    const state = JSON.parse(await berthOk(root, ['state', id])) as { status?: string };
    if (state.status !== 'created') throw new Error(`container ${id} is ${state.status}, expected created`);

    const c = await compare(
      commandSubject('node -e 0', ['node', '-e', '0']),
      [commandSubject('berth --version', [BERTH_BIN, '--version']), commandSubject('berth state ID', [BERTH_BIN, '--root', root, 'state', id])],
      { iterations: iterations(30), warmup: 3 },
    );
    return { title: 'Start-up: berth --version and berth state vs node -e 0', baseline: c.baseline, candidates: c.candidates, notes: spreadNotes(c) };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after startup: ${failures.join('; ')}`);
  }
}
