// libcrun in a long-lived process against spawning the crun CLI per operation: create, state,
// start, kill, delete of the same busybox container, one container per subject per round,
// rounds interleaved (the subject that goes first alternates).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendSettings } from '../../src/backends/backend.js';
import { detectLibcrun } from '../../src/backends/libcrun/detect.js';
import { startDriver, type LibcrunDriver } from '../../src/backends/libcrun/driver.js';
import { createLibcrunBackend, libcrunState } from '../../src/backends/libcrun/libcrun-backend.js';
import { createOciCliBackend } from '../../src/backends/oci-cli/oci-cli-backend.js';
import { runTool } from '../../src/core/exec.js';
import { readProcStat } from '../../src/core/proc.js';
import { parseSignal } from '../../src/core/signals.js';
import { readFileSync } from 'node:fs';
import { libcrunMissing, missing } from '../../test/helpers/host.js';
import { benchBundle, iterations } from '../cycle.js';
import { CleanupScope, summarize, type Goal } from '../measure.js';
import type { Measurement, ScenarioResult } from '../scenario.js';

export const description =
  'In one long-lived Node process, the same five operations on a busybox container (`sleep 300`), one ' +
  'container per subject per round, at least 100 rounds: create, state, start, kill (SIGKILL), then — after ' +
  'the init has died, untimed — delete. Baseline: berth\'s crun-cli backend, which spawns `crun` per ' +
  'operation (with its `--log` file), and `crun state` spawned for state. Candidate: the crun-abi backend ' +
  '(libcrun in the sealed worker, one IPC round trip per operation) and `libcrun_container_state` through ' +
  'the worker. Both started once before timing (the worker\'s start-up is not in the numbers; see ' +
  'docs/backends.md for it). The table is the full cycle (sum of the five); the per-operation medians and ' +
  'ratios are in the notes.';

/** Full cycle ≥ 1.3× faster: libcrun/CLI ≤ 1/1.3. */
export const goal: Goal = { maxRatio: 1 / 1.3, text: 'full cycle through libcrun ≥ 1.3× faster than the crun CLI (ratio ≤ 0.77)' };

const OPS = ['create', 'state', 'start', 'kill', 'delete'] as const;
type Op = (typeof OPS)[number];
/** Per-operation goals: speed-up of libcrun over the CLI, by median. */
const OP_GOALS: Partial<Record<Op, number>> = { state: 3, start: 3, kill: 3 };

async function waitDead(pid: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const s = readProcStat(pid);
    if (!s || s.state === 'Z' || s.state === 'X') return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`container init ${pid} did not die after SIGKILL`);
}

interface Side {
  name: string;
  backend: Backend;
  state(id: string): Promise<void>;
  samples: Record<Op, number[]>;
}

export async function run(): Promise<ScenarioResult> {
  const gone = missing('crun') ?? libcrunMissing();
  if (gone) throw new Error(gone);
  const found = detectLibcrun({ env: process.env, configPath: undefined }).found;
  if (!found) throw new Error('no usable libcrun (run scripts/build-libcrun.sh)');
  const scope = new CleanupScope();
  const root = mkdtempSync(join(tmpdir(), 'berth-bench-libcrun-'));
  scope.add(`temp dir ${root}`, () => rmSync(root, { recursive: true, force: true }));
  const live = new Set<string>();
  let stateDriver: LibcrunDriver | undefined;
  try {
    const bundle = benchBundle(scope, 'berth-bench-libcrun-bundle-');
    const settings: BackendSettings = { root, debug: false, systemdCgroup: false, binaryPath: undefined, libcrunPath: undefined, crunBinaryPath: undefined, runcBinaryPath: undefined };
    const cli = await createOciCliBackend('crun', 'crun-cli', settings);
    const abi = await createLibcrunBackend(found, settings);
    stateDriver = await startDriver(found);
    const stateRoot = join(root, 'crun');
    scope.add('leftover containers', async () => {
      for (const id of live) await cli.delete(id, true);
    });
    const empty = (): Record<Op, number[]> => ({ create: [], state: [], start: [], kill: [], delete: [] });
    const sides: Side[] = [
      {
        name: 'crun CLI per operation',
        backend: cli,
        state: async (id) => {
          const r = await runTool(['crun', '--root', stateRoot, 'state', id]);
          if (r.exitCode !== 0) throw new Error(`crun state ${id}: ${r.stderr}`);
          JSON.parse(r.stdout);
        },
        samples: empty(),
      },
      {
        name: 'libcrun in the worker',
        backend: abi,
        state: async (id) => void JSON.parse(await libcrunState(stateDriver!, stateRoot, id)),
        samples: empty(),
      },
    ];

    const kill = parseSignal('KILL');
    const n = Math.max(iterations(100), 1);
    const warmup = 5;
    let seq = 0;
    for (let round = 0; round < warmup + n; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const id = `bench-libcrun-${process.pid}-${seq++}`;
        const pidFile = join(root, `${id}.pid`);
        const t: Partial<Record<Op, number>> = {};
        const time = async (op: Op, fn: () => Promise<unknown>): Promise<void> => {
          const t0 = process.hrtime.bigint();
          await fn();
          t[op] = Number(process.hrtime.bigint() - t0) / 1e6;
        };
        live.add(id);
        await time('create', () => side.backend.create({ id, bundle, config: join(bundle, 'config.json'), pidFile, consoleSocket: undefined, noPivot: false, noNewKeyring: false, preserveFds: 0 }));
        await time('state', () => side.state(id));
        await time('start', () => side.backend.start(id));
        const pid = Number(readFileSync(pidFile, 'utf8'));
        await time('kill', () => side.backend.kill(id, kill, false));
        await waitDead(pid);
        await time('delete', () => side.backend.delete(id, false));
        live.delete(id);
        rmSync(pidFile, { force: true });
        if (round >= warmup) for (const op of OPS) side.samples[op].push(t[op]!);
      }
    }

    const cycle = (s: Side): Measurement => summarize(s.name, s.samples.create.map((_, i) => OPS.reduce((sum, op) => sum + s.samples[op][i]!, 0)));
    const [base, cand] = sides as [Side, Side];
    const lines = OPS.map((op) => {
      const b = summarize(op, base.samples[op]).medianMs;
      const c = summarize(op, cand.samples[op]).medianMs;
      const speedup = b / c;
      const want = OP_GOALS[op];
      const verdict = want === undefined ? '' : speedup >= want ? ` — goal ≥ ${want}×: met` : ` — goal ≥ ${want}×: NOT met`;
      return `${op}: crun CLI ${b.toFixed(2)} ms, libcrun ${c.toFixed(2)} ms (median), ${speedup.toFixed(1)}× faster${verdict}`;
    });
    return {
      title: `libcrun (crun-abi worker) vs the crun CLI per operation, ${n} containers each`,
      baseline: cycle(base),
      candidates: [cycle(cand)],
      notes: lines.join('\n'),
    };
  } finally {
    stateDriver?.close();
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after libcrun: ${failures.join('; ')}`);
  }
}
