// The crash matrix (issue 14): each verb SIGKILLed at a set of delays, as the berth process alone
// and as its process group; after each kill the next verbs must find the truth (test/helpers/
// crash.ts says what counts as clean, stuck and lost). CI runs a bounded subset; `npm run
// test:crash` the full matrix (BERTH_CRASH_FULL=1), and BERTH_CRASH_RESULTS=FILE writes the
// table that docs/reliability.md shows. On dir storage, through crun-cli.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, type BerthResult } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { crashTable, entries, killedAfter, livePidsOf, mountsUnder, type KillMode, type KillResult, type Outcome } from '../helpers/crash.js';
import { missing } from '../helpers/host.js';
import { buildBusyboxOciArchive, type OciArchive } from '../helpers/oci-image.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const FULL = process.env.BERTH_CRASH_FULL === '1';
const DELAYS = process.env.BERTH_CRASH_DELAYS?.split(',').map(Number) ?? (FULL ? [0, 10, 30, 60, 100, 150, 220, 300, 450, 700] : [0, 40, 100, 180, 300]);
/** BERTH_CRASH_ONLY=name,name: only these scenarios (by hand, to look at one). */
const ONLY = process.env.BERTH_CRASH_ONLY?.split(',');
const TRIES = FULL ? 2 : 1;
const MODES: KillMode[] = ['pid', 'group'];

/** The programs the scenarios' containers run: a leftover one is a leak. */
const BUNDLE_PROGRAM = ['sleep', '86399'];
const IMAGE_PROGRAM = ['sleep', '86398'];
const IMAGE = 'busybox:crash';

interface World {
  tmp: string;
  root: string;
  config: string;
  storage: string;
  bundle: string;
  archive: OciArchive;
}

let w: World;
const run = (args: string[]): Promise<BerthResult> => berth(['--root', w.root, '--config', w.config, ...args]);
const must = async (args: string[]): Promise<string> => {
  const r = await run(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
};

interface Scenario {
  name: string;
  /** What the verb acts on, made before it. */
  setup?: (id: string) => Promise<void>;
  verb: (id: string) => string[];
  /** The checks of this verb's own data after the kill (the common ones follow); problems found. */
  after?: (id: string, problems: Problems) => Promise<void>;
  /** The container is an image's: its program is IMAGE_PROGRAM. */
  image?: boolean;
}

class Problems {
  readonly stuck: string[] = [];
  readonly lost: string[] = [];
  /** A verb that must succeed now; a failure is a stuck state. */
  async must(args: string[], allowed: readonly number[] = [0]): Promise<BerthResult> {
    const r = await run(args);
    if (!allowed.includes(r.code ?? -1)) this.stuck.push(`${args.slice(0, 2).join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
    return r;
  }
}

const marker = async (id: string): Promise<string> => {
  const st = JSON.parse(await must(['state', id])) as { bundle: string };
  const config = JSON.parse(readFileSync(join(st.bundle, 'config.json'), 'utf8')) as { root: { path: string } };
  return join(resolve(st.bundle, config.root.path), 'crash-marker');
};

const runningFromImage = async (id: string): Promise<void> => void (await must(['run', '--detach', '--image', IMAGE, id]));
/** Rollback wants a stopped container. */
const stoppedFromImage = async (id: string): Promise<void> => {
  await runningFromImage(id);
  await must(['kill', id, 'KILL']);
  await waitFor(`${id} to stop`, async () => (JSON.parse(await must(['state', id])) as { status: string }).status === 'stopped');
};

const SCENARIOS: Scenario[] = [
  { name: 'create --bundle', verb: (id) => ['create', '--bundle', w.bundle, id] },
  { name: 'run --detach --bundle', verb: (id) => ['run', '--detach', '--bundle', w.bundle, id] },
  { name: 'start', setup: async (id) => void (await must(['create', '--bundle', w.bundle, id])), verb: (id) => ['start', id] },
  { name: 'kill', setup: async (id) => void (await must(['run', '--detach', '--bundle', w.bundle, id])), verb: (id) => ['kill', id, 'KILL'] },
  {
    name: 'delete',
    setup: async (id) => {
      await must(['run', '--detach', '--bundle', w.bundle, id]);
      await must(['kill', id, 'KILL']);
      await waitFor(`${id} to stop`, async () => (JSON.parse(await must(['state', id])) as { status: string }).status === 'stopped');
    },
    verb: (id) => ['delete', id],
  },
  { name: 'delete --force', setup: async (id) => void (await must(['run', '--detach', '--bundle', w.bundle, id])), verb: (id) => ['delete', '--force', id] },
  { name: 'create --image', image: true, verb: (id) => ['create', '--image', IMAGE, id] },
  { name: 'delete --force (image)', image: true, setup: runningFromImage, verb: (id) => ['delete', '--force', id] },
  {
    name: 'snapshot create',
    image: true,
    setup: async (id) => {
      await stoppedFromImage(id);
      writeFileSync(await marker(id), 'before');
    },
    verb: (id) => ['snapshot', 'create', id, 's1'],
    after: async (id, p) => {
      const ls = await p.must(['snapshot', 'ls', '--format', 'json', id]);
      if (ls.code !== 0) return;
      const names = (JSON.parse(ls.stdout) as { name: string }[]).map((s) => s.name);
      if (!names.includes('s1') && (await p.must(['snapshot', 'create', id, 's1'])).code !== 0) return;
      const file = await marker(id);
      writeFileSync(file, 'after');
      if ((await p.must(['snapshot', 'rollback', id, 's1'])).code !== 0) return;
      const now = existsSync(file) ? readFileSync(file, 'utf8') : '(missing)';
      if (now !== 'before') p.lost.push(`rollback to s1 gave the marker ${JSON.stringify(now)}, not "before"`);
    },
  },
  {
    name: 'snapshot rollback',
    image: true,
    setup: async (id) => {
      await stoppedFromImage(id);
      writeFileSync(await marker(id), 'before');
      await must(['snapshot', 'create', id, 's1']);
      writeFileSync(await marker(id), 'after');
    },
    verb: (id) => ['snapshot', 'rollback', id, 's1'],
    after: async (id, p) => {
      if ((await p.must(['snapshot', 'rollback', id, 's1'])).code !== 0) return;
      const file = await marker(id);
      const now = existsSync(file) ? readFileSync(file, 'utf8') : '(missing)';
      if (now !== 'before') p.lost.push(`rollback to s1 gave the marker ${JSON.stringify(now)}, not "before"`);
    },
  },
  {
    name: 'image import',
    image: true,
    setup: async () => void (await run(['image', 'rm', IMAGE])),
    verb: () => ['image', 'import', w.archive.file, '--name', IMAGE],
    after: async (_id, p) => void (await p.must(['image', 'import', w.archive.file, '--name', IMAGE])),
  },
  {
    name: 'image rm',
    image: true,
    verb: () => ['image', 'rm', IMAGE],
    after: async (_id, p) => {
      // Finished or not, a retry ends it, and the cache then holds no trace of it.
      await p.must(['image', 'rm', IMAGE], [0, 4]);
      const ls = await p.must(['image', 'ls', '--format', 'json']);
      if (ls.code === 0 && ls.stdout.includes(IMAGE)) p.stuck.push(`image ls still lists ${IMAGE} after image rm`);
      if (entries(join(w.storage, 'images')).length > 0) p.stuck.push(`templates left after image rm: ${entries(join(w.storage, 'images')).join(', ')}`);
      await p.must(['image', 'import', w.archive.file, '--name', IMAGE]);
    },
  },
];

/** The checks every kill ends with: list, state, delete --force, and nothing left behind. */
async function commonChecks(s: Scenario, id: string, p: Problems): Promise<void> {
  const list = await p.must(['list', '--format', 'json']);
  if (list.code === 0) JSON.parse(list.stdout);
  const st = await p.must(['state', id], [0, 4]);
  if (st.code === 0) {
    const state = JSON.parse(st.stdout) as { status: string; pid?: number };
    const program = s.image ? IMAGE_PROGRAM : BUNDLE_PROGRAM;
    if (state.status === 'created' && state.pid && livePidsOf(program).includes(state.pid)) p.stuck.push('state says created while its program runs');
    if (state.status === 'running' && !(state.pid && livePidsOf(program).includes(state.pid))) p.stuck.push(`state says running, but pid ${state.pid} is not its program`);
  }
  await p.must(['delete', '--force', id], [0, 4]);
  await p.must(['state', id], [4]);
  if (s.image) {
    const ls = await p.must(['image', 'ls', '--format', 'json']);
    if (ls.code === 0) {
      const images = JSON.parse(ls.stdout) as { containers: unknown[] }[];
      const counted = images.flatMap((i) => i.containers);
      if (counted.length > 0) p.stuck.push(`image ls counts ${counted.length} container(s) that were deleted`);
    }
    if ((await p.must(['create', '--image', IMAGE, `${id}-next`])).code === 0) await p.must(['delete', '--force', `${id}-next`]);
  }
  // Leaks: what was made for the container is gone.
  const leftPrograms = (): number[] => [...livePidsOf(BUNDLE_PROGRAM), ...livePidsOf(IMAGE_PROGRAM)];
  try {
    await waitFor('the container programs to be gone', () => leftPrograms().length === 0, 3_000);
  } catch {
    p.stuck.push(`container programs still running: pids ${leftPrograms().join(', ')}`);
  }
  // Only this kill's names: one stuck kill must not be counted again by every later one.
  const mineOnly = (names: string[]): string[] => names.filter((n) => [id, `${id}-next`].some((x) => n === x || n.endsWith(`-${x}`) || n.endsWith(`/${x}`)));
  const leaks: [string, string[]][] = [
    ['container records', mineOnly(entries(join(berthStateDir(w.root), 'containers'))).filter((d) => existsSync(join(berthStateDir(w.root), 'containers', d, 'record.json')))],
    ['container volumes', mineOnly(entries(join(w.storage, 'containers')))],
    ['mounts', mountsUnder(w.tmp)],
  ];
  for (const [what, left] of leaks) if (left.length > 0) p.stuck.push(`${what} left: ${left.join(', ')}`);
  const hollow = mineOnly(entries(join(berthStateDir(w.root), 'containers'))).filter((d) => !existsSync(join(berthStateDir(w.root), 'containers', d, 'record.json')));
  if (hollow.length > 0) p.stuck.push(`container directories without a record left: ${hollow.join(', ')}`);
  const holders = entries(join(berthStateDir(w.root), 'containers')).filter((n) => [id, `${id}-next`].some((x) => n === `.${x}.holder`));
  if (holders.length > 0) p.stuck.push(`lock holder files left: ${holders.join(', ')}`);
  const cgroups = mineOnly(rootCgroups(w.root));
  if (cgroups.length > 0) p.stuck.push(`cgroups left: ${cgroups.join(', ')}`);
}

const results: KillResult[] = [];
let seq = 0;

describe('crash matrix: SIGKILL at any moment, then the next verbs find the truth', { skip: missing('crun', 'busybox', 'tar') }, () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir('berth-crash-');
    const storage = join(tmp.path, 'storage');
    const config = join(tmp.path, 'config.toml');
    writeFileSync(config, `default_runtime = "crun-cli"\n\n[storage]\ndriver = "dir"\ndir = "${storage}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
    w = {
      tmp: tmp.path,
      root: join(tmp.path, 'root'),
      config,
      storage,
      bundle: makeBusyboxBundle(join(tmp.path, 'bundle'), { args: BUNDLE_PROGRAM }),
      archive: buildBusyboxOciArchive(join(tmp.path, 'image'), { cmd: IMAGE_PROGRAM }),
    };
    await must(['image', 'import', w.archive.file, '--name', IMAGE]);
  });
  after(async () => {
    const file = process.env.BERTH_CRASH_RESULTS;
    if (file) writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), full: FULL, results }, null, 2));
    console.log(crashTable(results));
    tmp?.remove();
  });

  for (const s of SCENARIOS.filter((x) => !ONLY || ONLY.includes(x.name))) {
    test(`${s.name}: killed at ${DELAYS.join(', ')} ms (${MODES.join(' and ')}${TRIES > 1 ? `, ${TRIES} tries` : ''}): 0 stuck, 0 lost`, async () => {
      const mine: KillResult[] = [];
      for (let t = 0; t < TRIES; t++) {
        for (const delayMs of DELAYS) {
          for (const mode of MODES) {
            const id = `crash-${seq++}`;
            await s.setup?.(id);
            const verbExit = await killedAfter(['--root', w.root, '--config', w.config, ...s.verb(id)], delayMs, mode);
            const p = new Problems();
            await s.after?.(id, p);
            await commonChecks(s, id, p);
            const outcome: Outcome = p.lost.length > 0 ? 'lost' : p.stuck.length > 0 ? 'stuck' : 'clean';
            const r: KillResult = { scenario: s.name, delayMs, mode, verbExit, outcome, problems: [...p.lost, ...p.stuck] };
            mine.push(r);
            results.push(r);
            // A stuck kill must not spoil the next: clear what berth could not, by hand.
            if (outcome !== 'clean') await cleanByHand();
          }
        }
      }
      const bad = mine.filter((r) => r.outcome !== 'clean').map((r) => `${r.delayMs} ms/${r.mode} (${r.verbExit}): ${r.outcome}: ${r.problems.join('; ')}`);
      assert.deepEqual(bad, [], `${s.name}: every kill ends clean`);
    });
  }
});

/** After a stuck kill: the hard way, so the next kill starts from a clean root. */
async function cleanByHand(): Promise<void> {
  for (const pid of [...livePidsOf(BUNDLE_PROGRAM), ...livePidsOf(IMAGE_PROGRAM)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const id of entries(join(berthStateDir(w.root), 'containers'))) await run(['delete', '--force', id]);
  const ls = await run(['image', 'ls', '--format', 'json']);
  if (ls.code !== 0 || !ls.stdout.includes(IMAGE)) await run(['image', 'import', w.archive.file, '--name', IMAGE]);
}
