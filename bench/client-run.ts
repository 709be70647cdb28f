// Podman or Docker as berth's client (issue 15): `run --rm` of busybox `true` with berth (its
// default backend, crun) as the runtime, against the same client with raw runc; the client is
// private to the run (test/helpers/clients.ts), subjects interleaved round by round.
import { join } from 'node:path';
import { tempDir } from '../test/helpers/bundle.js';
import { busyboxTar, startDocker, startPodman, type Client, type Runtime } from '../test/helpers/clients.js';
import { missing } from '../test/helpers/host.js';
import { BERTH_BIN } from '../test/helpers/paths.js';
import { iterations } from './cycle.js';
import { CleanupScope, compare, spreadNotes, type Goal, type Subject } from './measure.js';
import type { ScenarioResult } from './scenario.js';

const IMAGE = 'localhost/busybox:bench';

export const clientGoal: Goal = { maxRatio: 1.2, text: 'run --rm through berth within 1.2× of runc (issue 15)' };

export function clientDescription(kind: 'podman' | 'docker'): string {
  const who = kind === 'podman' ? 'Podman 4.3 (Debian\'s), which calls the runtime 3 times per run' : 'Docker 20.10 (Debian\'s docker.io), which calls the runtime 4 times per run through containerd\'s shim';
  return `${who}: \`${kind} run --rm --network none IMAGE true\` of an imported busybox rootfs, timed from spawning the client to its exit. ` +
    `Baseline: ${kind} with raw runc. Candidate: ${kind} with berth (default backend crun, i.e. crun-cli in one-shot berth commands). ` +
    `The client is private (own storage, sockets, bridge) in a temp dir; subjects interleaved round by round.`;
}

export async function runClientScenario(kind: 'podman' | 'docker'): Promise<ScenarioResult> {
  const gone = kind === 'podman' ? missing('podman', 'conmon', 'runc', 'crun') : missing('dockerd', 'containerd', 'runc', 'crun');
  if (gone) throw new Error(`${kind}-run needs ${kind}: ${gone}`);
  const scope = new CleanupScope();
  try {
    const work = tempDir(`berth-bench-${kind}-`);
    scope.add(`temp dir ${work.path}`, work.remove);
    const runc: Runtime = { name: 'runc', path: '/usr/sbin/runc', args: [] };
    const berth: Runtime = { name: 'berth', path: BERTH_BIN, args: ['--root', join(work.path, 'berth-root')] };
    const client: Client = kind === 'podman' ? await startPodman(join(work.path, 'podman')) : await startDocker(join(work.path, 'docker'), [runc, berth]);
    scope.add(`private ${kind}`, () => client.stop());
    await client.ok(['import', busyboxTar(work.path), IMAGE]);
    const subject = (r: Runtime): Subject => ({
      name: `${kind} run --rm (${r.name === 'runc' ? 'runc' : 'berth → crun'})`,
      run: async () => void (await client.ok(['run', '--rm', '--network', 'none', ...client.runtimeFlag(r), IMAGE, 'true'], { timeoutMs: 60_000 })),
    });
    const c = await compare(subject(runc), [subject(berth)], { iterations: iterations(10), warmup: 1 });
    const extra = c.candidates[0]!.medianMs - c.baseline.medianMs;
    return {
      title: `${kind === 'podman' ? 'Podman' : 'Docker'}: ${kind} run --rm busybox true, berth vs runc as the runtime`,
      baseline: c.baseline,
      candidates: c.candidates,
      notes: `berth adds ${extra.toFixed(0)} ms per container (median).\n${spreadNotes(c)}`,
    };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after ${kind}-run: ${failures.join('; ')}`);
  }
}
