// A terminal on lxc (issue 15 item 5): process.terminal with --console-socket for run, create and
// exec (--tty or a process file's terminal), as conmon and containerd's shim use it: the runtime opens a pty, sends its master over the socket
// (SCM_RIGHTS) and the process has the slave as its controlling terminal on 0, 1 and 2. A
// receiver (test/helpers/console.c) takes the master, sets 33x101, types a line and reads
// everything back; raw crun with the same bundle is the yardstick.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH_BIN } from '../helpers/paths.js';
import { runProgram } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { buildConsoleReceiver, CONSOLE_SIZE, withConsole } from '../helpers/console.js';
import { ALL_BACKENDS, lxcIds, missing } from '../helpers/host.js';

const lxcCase = ALL_BACKENDS.find((b) => b.name === 'lxc');
const skip = (lxcCase ? lxcCase.skip : 'lxc is not among BERTH_TEST_BACKENDS') ?? missing('crun', 'gcc');

const SUBJECTS = [
  { name: 'berth lxc', argv: (root: string) => [BERTH_BIN, '--root', root, '--runtime', 'lxc'] },
  { name: 'crun', argv: (root: string) => ['crun', '--root', root] },
];

/** Reads a line (typed through the master), then shows its terminal, its size and the line. */
const SCRIPT = 'read line; tty; stty size; echo "read: $line"; exit 3';

describe('a terminal through --console-socket on lxc, beside raw crun', { skip }, () => {
  const tmp = tempDir('berth-lxc-tty-');
  let receiver = '';
  let seq = 0;
  const root = (name: string): string => join(tmp.path, `root-${name.replace(' ', '-')}`);
  before(() => {
    receiver = buildConsoleReceiver(tmp.path);
  });
  after(async () => {
    for (const id of lxcIds(root('berth lxc'))) await runProgram(BERTH_BIN, ['--root', root('berth lxc'), 'delete', '--force', id]);
    tmp.remove();
  });

  test('run: the process\'s terminal is a /dev/pts of the container, sized and typed into through the master; the exit status comes back', async () => {
    const bundle = makeBusyboxBundle(join(tmp.path, 'run'), { terminal: true, args: ['sh', '-c', SCRIPT] });
    for (const s of SUBJECTS) {
      const socket = join(tmp.path, `sock-${seq++}`);
      const argv = s.argv(root(s.name));
      const r = await withConsole(receiver, socket, 'hello\n', [...argv, 'run', '--console-socket', socket, '--bundle', bundle, `run-${seq}`]);
      assert.ok(r.gotTerminal, `${s.name}: no terminal on the socket: ${r.result.stderr}`);
      assert.equal(r.command, 'exit 3', `${s.name}: ${r.result.stderr}`);
      // The terminal echoes what is typed and writes CR LF.
      assert.match(r.output, new RegExp(`^hello\\r\\n/dev/pts/\\d+\\r\\n${CONSOLE_SIZE}\\r\\nread: hello\\r\\n$`), `${s.name}: ${JSON.stringify(r.output)}`);
    }
  });

  test('create + start: the master arrives at create, the process runs on it after start', async () => {
    const bundle = makeBusyboxBundle(join(tmp.path, 'created'), { terminal: true, args: ['sh', '-c', 'tty; exit 0'] });
    for (const s of SUBJECTS) {
      const socket = join(tmp.path, `sock-${seq++}`);
      const argv = s.argv(root(s.name));
      const id = `created-${seq}`;
      const r = await withConsole(receiver, socket, '', ['sh', '-c', `"$@" create --console-socket ${socket} --bundle ${bundle} ${id} && "$@" start ${id}`, 'sh', ...argv]);
      assert.equal(r.command, 'exit 0', `${s.name}: ${r.result.stderr}`);
      assert.ok(r.gotTerminal, s.name);
      assert.match(r.output, /^\/dev\/pts\/\d+\r\n$/, `${s.name}: ${JSON.stringify(r.output)}`);
      const d = await runProgram(argv[0]!, [...argv.slice(1), 'delete', '--force', id]);
      assert.equal(d.code, 0, `${s.name} delete: ${d.stderr}`);
    }
  });

  test('exec --tty, in the foreground and with --detach: the exec\'s own /dev/pts, sized and typed into; the foreground one\'s exit status comes back', async () => {
    const bundle = makeBusyboxBundle(join(tmp.path, 'exec'), { args: ['sleep', '300'] });
    for (const s of SUBJECTS) {
      const argv = s.argv(root(s.name));
      const id = `exec-${seq++}`;
      for (const verb of [['create', '--bundle', bundle, id], ['start', id]]) {
        const r = await runProgram(argv[0]!, [...argv.slice(1), ...verb]);
        assert.equal(r.code, 0, `${s.name} ${verb[0]}: ${r.stderr}`);
      }
      try {
        for (const detach of [[], ['--detach']]) {
          const socket = join(tmp.path, `sock-${seq++}`);
          const r = await withConsole(receiver, socket, 'hello\n', [...argv, 'exec', ...detach, '--tty', '--console-socket', socket, id, 'sh', '-c', SCRIPT]);
          const what = `${s.name} exec ${detach.join(' ')}`;
          assert.ok(r.gotTerminal, `${what}: no terminal on the socket: ${r.result.stderr}`);
          assert.equal(r.command, detach.length ? 'exit 0' : 'exit 3', `${what}: ${r.result.stderr}`);
          assert.match(r.output, new RegExp(`^hello\\r\\n/dev/pts/\\d+\\r\\n${CONSOLE_SIZE}\\r\\nread: hello\\r\\n$`), `${what}: ${JSON.stringify(r.output)}`);
        }
        const state = await runProgram(argv[0]!, [...argv.slice(1), 'state', id]);
        assert.equal(JSON.parse(state.stdout).status, 'running', `${s.name}: the container still runs after the execs`);
      } finally {
        await runProgram(argv[0]!, [...argv.slice(1), 'delete', '--force', id]);
      }
    }
  });

  test('--console-socket without process.terminal: refused with exit 3 on lxc', async () => {
    const bundle = makeBusyboxBundle(join(tmp.path, 'no-terminal'), { terminal: false, args: ['true'] });
    const socket = join(tmp.path, `sock-${seq++}`);
    const r = await withConsole(receiver, socket, '', [BERTH_BIN, '--root', root('berth lxc'), '--runtime', 'lxc', 'create', '--console-socket', socket, '--bundle', bundle, 'refused']);
    assert.equal(r.command, 'exit 3', r.result.stderr);
    assert.match(r.result.stderr, /--console-socket needs process.terminal: true/);
    assert.deepEqual(lxcIds(root('berth lxc')), []);
  });
});
