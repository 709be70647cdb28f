// exec --detach as conmon and containerd's shim use it: the caller is a child subreaper, and the
// process named in --pid-file must be reparented to it when the runtime exits and end with the
// exec'd command's status. Raw runc and crun are the yardstick, in the same test; a short command
// (`true`) used to fail on lxc (berth looked for the attached process after it had exited).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk, runProgram } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS } from '../helpers/host.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { buildSubreaper, underSubreaper } from '../helpers/subreaper.js';

const lxcCase = ALL_BACKENDS.find((b) => b.name === 'lxc');
const skip = lxcCase ? lxcCase.skip : 'lxc is not among BERTH_TEST_BACKENDS';

interface Subject {
  name: string;
  argv: (root: string) => string[];
}
const SUBJECTS: Subject[] = [
  { name: 'berth lxc', argv: (root) => [BERTH_BIN, '--root', root, '--runtime', 'lxc'] },
  { name: 'runc', argv: (root) => ['runc', '--root', root] },
  { name: 'crun', argv: (root) => ['crun', '--root', root] },
];

describe('exec --detach under a subreaper: lxc beside runc and crun', { skip }, () => {
  const tmp = tempDir('berth-lxc-execd-');
  let bundle = '';
  let reaper = '';
  let n = 0;
  const roots = new Map(SUBJECTS.map((s) => [s.name, join(tmp.path, s.name.replace(' ', '-'))]));

  before(async () => {
    bundle = makeBusyboxBundle(join(tmp.path, 'bundle'), { args: ['sleep', '1000'] });
    reaper = buildSubreaper(tmp.path);
    for (const s of SUBJECTS) {
      const argv = s.argv(roots.get(s.name)!);
      for (const verb of [['create', '--bundle', bundle, 'c'], ['start', 'c']]) {
        const r = await runProgram(argv[0]!, [...argv.slice(1), ...verb]);
        assert.equal(r.code, 0, `${s.name} ${verb[0]}: ${r.stderr}`);
      }
    }
  });
  after(async () => {
    for (const s of SUBJECTS) {
      const argv = s.argv(roots.get(s.name)!);
      await runProgram(argv[0]!, [...argv.slice(1), 'delete', '--force', 'c']);
    }
    tmp.remove();
  });

  /** `exec --detach --pid-file F c ARGS` under the subreaper, for each subject. */
  async function detachedExec(args: string[]) {
    const out = [];
    for (const s of SUBJECTS) {
      const pidFile = join(tmp.path, `pid-${++n}`);
      const argv = s.argv(roots.get(s.name)!);
      const started = Date.now();
      const r = await underSubreaper(reaper, join(tmp.path, `reaped-${n}`), [...argv, 'exec', '--detach', '--pid-file', pidFile, 'c', ...args]);
      let pid: number | undefined;
      try {
        pid = Number(readFileSync(pidFile, 'utf8').trim());
      } catch {
        pid = undefined;
      }
      out.push({ name: s.name, ...r, pid, ms: Date.now() - started });
    }
    return out;
  }

  for (const [label, args, status] of [
    ['a short command (true)', ['true'], 'exit 0'],
    ['an exit status (sh -c "exit 3")', ['sh', '-c', 'exit 3'], 'exit 3'],
    ['a command that outlives the runtime (sleep 2)', ['sleep', '2'], 'exit 0'],
  ] as const) {
    test(`${label}: the pid-file process is reparented to the caller and ends with the command's status`, async () => {
      for (const r of await detachedExec([...args])) {
        assert.equal(r.command, 'exit 0', `${r.name}: exec --detach: ${r.result.stderr}`);
        assert.ok(r.pid, `${r.name}: no pid in the pid file`);
        assert.equal(r.reaped.get(r.pid), status, `${r.name}: pid ${r.pid} was not reaped by the subreaper with ${status} (reaped: ${[...r.reaped].join(', ')})`);
      }
    });
  }

  test('a command killed by a signal: runc and crun show the signal; lxc-attach exits 128+n', async () => {
    for (const r of await detachedExec(['sh', '-c', 'kill -TERM $$'])) {
      assert.equal(r.command, 'exit 0', `${r.name}: ${r.result.stderr}`);
      const expected = r.name === 'berth lxc' ? 'exit 143' : 'signal 15';
      assert.equal(r.reaped.get(r.pid!), expected, `${r.name}: reaped ${[...r.reaped].join(', ')}`);
    }
  });

  test('a missing command fails exec --detach itself, in runc\'s words', async () => {
    for (const r of await detachedExec(['no-such-command'])) {
      assert.notEqual(r.command, 'exit 0', `${r.name} accepted a missing command`);
      assert.match(r.result.stderr, /executable file .*not found in \$PATH/, r.name);
    }
  });

  test('a container that is not running: exec --detach fails, nothing is left', async () => {
    const root = roots.get('berth lxc')!;
    await berthOk(root, ['--runtime', 'lxc', 'create', '--bundle', bundle, 'idle']);
    await berthOk(root, ['--runtime', 'lxc', 'kill', 'idle', 'KILL']);
    const r = await berth(['--root', root, '--runtime', 'lxc', 'exec', '--detach', 'idle', 'true']);
    assert.notEqual(r.code, 0, r.stderr);
    await berthOk(root, ['--runtime', 'lxc', 'delete', '--force', 'idle']);
  });
});
