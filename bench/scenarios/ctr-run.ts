// containerd as the client: `ctr run --rm` of busybox `true`, through the runc shim with berth as
// its runtime binary, against the same with runc. A private containerd (test/helpers/containerd.ts)
// and a hand-built busybox OCI image; all subjects run in the same containerd, interleaved.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/bundle.js';
import { startContainerd } from '../../test/helpers/containerd.js';
import { missing } from '../../test/helpers/host.js';
import { buildBusyboxOciArchive, importImage } from '../../test/helpers/oci-image.js';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { iterations } from '../cycle.js';
import { CleanupScope, compare, runCommand, spreadNotes, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

/** What the shim runs per `ctr run --rm`: create, start, delete, then its cleanup's delete --force. */
const RUNTIME_CALLS = 4;

export const description =
  'containerd 1.6 as berth\'s client: `ctr run --rm IMAGE ID true` of a hand-built busybox OCI image, timed ' +
  'from spawning ctr to its exit (image resolution, snapshot, the runc shim starting, the runtime\'s create, ' +
  'start, delete and the shim cleanup\'s delete --force, the task exit). Baseline: `--runc-binary runc`. ' +
  'Candidates: `--runc-binary bin/berth` (default backend crun, i.e. auto: crun-cli in a one-shot berth command) and a wrapper that runs bin/berth with a ' +
  'config whose default_runtime is runc. One private containerd with its own root, state and socket; a ' +
  'fresh container id each iteration; subjects interleaved round by round.';

function onPath(bin: string): string {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (existsSync(join(d, bin))) return join(d, bin);
  }
  return bin;
}

export async function run(): Promise<ScenarioResult> {
  const gone = missing('containerd', 'ctr', 'runc', 'crun', 'tar');
  if (gone) throw new Error(`ctr-run needs containerd: ${gone}`);
  const scope = new CleanupScope();
  try {
    const work = tempDir('berth-bench-ctr-');
    scope.add(`temp dir ${work.path}`, work.remove);
    const cd = await startContainerd({ namespace: 'berth-bench' });
    scope.add('private containerd', () => cd.stop());
    const image = await importImage(cd, buildBusyboxOciArchive(join(work.path, 'image')));

    const runcConfig = join(work.path, 'berth-runc.toml');
    writeFileSync(runcConfig, 'default_runtime = "runc"\n');
    const berthRunc = join(work.path, 'berth-runc');
    writeFileSync(berthRunc, `#!/bin/sh\nexec ${JSON.stringify(BERTH_BIN)} --config ${JSON.stringify(runcConfig)} "$@"\n`);
    chmodSync(berthRunc, 0o755);

    const ctrRun = (name: string, binary: string, tag: string): Subject => ({
      name,
      run: async (i) => {
        const id = `bench-${tag}-${process.pid}-${i}`;
        await runCommand(['ctr', '-a', cd.socket, '-n', cd.namespace, 'run', '--rm', '--runc-binary', binary, image, id, 'true'], {
          timeoutMs: 60_000,
        });
      },
    });
    const baseline = ctrRun('ctr run --rm (runc)', onPath('runc'), 'runc');
    const viaCrun = ctrRun('ctr run --rm (berth → crun)', BERTH_BIN, 'berth-crun');
    const viaRunc = ctrRun('ctr run --rm (berth → runc)', berthRunc, 'berth-runc');

    const c = await compare(baseline, [viaCrun, viaRunc], { iterations: iterations(10), warmup: 1 });
    const extra = c.candidates[1]!.medianMs - c.baseline.medianMs;
    return {
      title: 'containerd: ctr run --rm busybox true, berth vs runc as the shim\'s runtime',
      baseline: c.baseline,
      candidates: c.candidates,
      notes:
        `berth → runc adds ${extra.toFixed(0)} ms per container (median), about ${(extra / RUNTIME_CALLS).toFixed(0)} ms ` +
        `per runtime call (the shim makes ${RUNTIME_CALLS}: create, start, delete, delete --force).\n${spreadNotes(c)}`,
    };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after ctr-run: ${failures.join('; ')}`);
  }
}
