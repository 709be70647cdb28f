// Bad input through the real CLI, on crun and on runc: every failure is one "berth: ..." line on
// stderr naming the problem, exits with the documented code (cli/exit.ts), and leaves nothing
// behind — no record, no backend container, no temp file, no pid file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk, type BerthResult } from '../helpers/berth.js';
import { busyboxConfig, makeBusyboxBundle, tempDir, walk } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { waitFor } from '../helpers/wait.js';
import { ALL_BACKENDS, missing, type BackendCase } from '../helpers/host.js';
import { berthStateDir } from '../../src/core/state-root.js';

type Backend = 'crun' | 'runc';

// Exit codes of cli/exit.ts.
const USAGE = 2;
const INVALID = 3;
const NOT_FOUND = 4;
const STATE = 5;
const BACKEND_UNUSABLE = 6;
const BACKEND_FAILED = 1;

const work = tempDir('berth-bad-input-');
after(() => work.remove());

// Hermetic: no config from the environment unless a test asks for one.
const baseEnv: NodeJS.ProcessEnv = { ...process.env };
delete baseEnv.BERTH_CONFIG;

let goodBundle = '';
before(() => {
  if (missing('busybox') === undefined) goodBundle = makeBusyboxBundle(join(work.path, 'good-bundle'));
});

let seq = 0;
interface Case {
  dir: string;
  root: string;
  pidFile: string;
}
/** A fresh case directory: ROOT (not made: berth must make what it needs), a pid file path. */
function freshCase(): Case {
  const dir = join(work.path, `case-${seq++}`);
  mkdirSync(dir);
  return { dir, root: join(dir, 'root'), pidFile: join(dir, 'init.pid') };
}

function run(c: Case, args: string[], env: NodeJS.ProcessEnv = baseEnv, input?: string): Promise<BerthResult> {
  return berth(['--root', c.root, ...args], { env, input });
}

/** berth for the setup calls that make a container (create, run -d): must succeed. */
async function setup(c: Case, args: string[]): Promise<void> {
  await berthOk(c.root, args, { env: baseEnv });
}

/** One line, "berth: " and the key words; the documented exit code; nothing on stdout. */
function assertFailure(r: BerthResult, code: number, ...words: Array<string | RegExp>): string {
  const shown = `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
  // One line, the message; a person may get indented lines of detail under it (a config
  // file's line with a caret).
  assert.match(r.stderr, /^[^\n]*\n(  [^\n]*\n)*$/, `one line on stderr (and indented detail): ${shown}`);
  const line = r.stderr.slice(0, r.stderr.indexOf('\n'));
  assert.ok(line.startsWith('berth: '), `stderr starts with "berth: ": ${shown}`);
  for (const w of words) {
    if (typeof w === 'string') assert.ok(line.includes(w), `stderr names ${JSON.stringify(w)}: ${shown}`);
    else assert.match(line, w, shown);
  }
  assert.equal(r.code, code, `exit code: ${shown}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  return line.slice('berth: '.length);
}

function backendIds(root: string, backend: Backend): string[] {
  return ALL_BACKENDS.find((b) => b.tool === backend)!.ids(root);
}

/**
 * The suite runs on the backends driven through the OCI command line (crun, runc): its messages
 * name their binaries. lxc's bad input is in lxc-bad-input.test.ts; its state is checked here too.
 */
const OCI_CLI_BACKENDS = ALL_BACKENDS.filter((b): b is BackendCase & { tool: Backend } => b.tool !== 'lxc');

function goneOrZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
  } catch {
    return true;
  }
}

/** The operation journal (docs/metrics.md) records what was tried, failures included. */
const JOURNAL_PATH = /^@berth\/journal\/(ops-\d{10}\.jsonl)?$/;

/** Every journal line is a whole record of an operation, nothing else. */
function assertJournalWellFormed(root: string): void {
  for (const p of walk(root).filter((f) => JOURNAL_PATH.test(f) && !f.endsWith('/'))) {
    for (const line of readFileSync(join(root, p), 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { op?: unknown; result?: unknown };
      assert.ok(typeof r.op === 'string' && (r.result === 'ok' || r.result === 'error'), `journal line: ${line}`);
    }
  }
}

/**
 * Nothing under ROOT but empty state directories and the journal of the operations tried, no
 * container in either backend, no pid file.
 */
function assertNothingLeft(c: Case): void {
  assertJournalWellFormed(c.root);
  // identity.json is the root's own (its cgroups and volumes are named by it), made on first use.
  const left = walk(c.root).filter((p) => !['@berth/', '@berth/containers/', '@berth/crun/', '@berth/runc/', '@berth/lxc/', '@berth/identity.json'].includes(p) && !JOURNAL_PATH.test(p));
  assert.deepEqual(left, [], `left behind under ROOT: ${left.join(', ')}`);
  const cgroups = rootCgroups(c.root);
  assert.deepEqual(cgroups, [], `container cgroups left behind: ${cgroups.join(', ')}`);
  for (const b of ALL_BACKENDS) if (!b.skip) assert.deepEqual(b.ids(c.root), [], `${b.tool} still has containers`);
  assert.equal(existsSync(c.pidFile), false, 'pid file left behind');
}

/**
 * The mounts under this suite's directory (/proc/self/mountinfo field 5), where every bundle and
 * root lives: a runtime that skips the mount namespace mounts onto the rootfs on the host
 * (crun 1.8.1 with "namespaces": "pid" left 25 there). Mounts elsewhere belong to other tests.
 */
function mountLines(): Set<string> {
  return new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(`${work.path}/`)));
}

function assertNoNewMounts(before: Set<string>): void {
  const added = [...mountLines()].filter((l) => !before.has(l));
  assert.deepEqual(added, [], 'mounts left on the host');
}

/** A file-tree snapshot of ROOT with the records' contents, for cases where containers exist. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of walk(root)) {
    out[p] = p.startsWith('@berth/containers/') && p.endsWith('/record.json') ? readFileSync(join(root, p), 'utf8') : '';
  }
  return out;
}

function assertNoTemps(root: string): void {
  const temps = walk(root).filter((p) => /(^|\/)\.[^/]+\/?$/.test(p));
  assert.deepEqual(temps, [], 'no hidden or temp files under ROOT');
}

async function status(c: Case, id: string): Promise<{ status: string; pid: number }> {
  return JSON.parse(await berthOk(c.root, ['state', id], { env: baseEnv })) as { status: string; pid: number };
}

function backendStatus(c: Case, backend: Backend, id: string): string {
  return (JSON.parse(execFileSync(backend, ['--root', join(berthStateDir(c.root), backend), 'state', id], { encoding: 'utf8' })) as { status: string }).status;
}

/** A bundle with an empty rootfs/ and a config.json as given (text) or as edited from busybox's. */
function badBundle(config: string | ((c: Record<string, any>) => void) | undefined, opts: { rootfs?: boolean } = {}): string {
  const dir = join(work.path, `bundle-${seq++}`);
  mkdirSync(dir);
  if (opts.rootfs !== false) mkdirSync(join(dir, 'rootfs'));
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(busyboxConfig({ edit: config })));
  return dir;
}

function configFile(text: string): string {
  const path = join(work.path, `config-${seq++}.toml`);
  writeFileSync(path, text);
  return path;
}

/** A directory whose only program is node: berth runs, crun and runc are not on PATH. */
function nodeOnlyPath(): string {
  const dir = join(work.path, `node-only-${seq++}`);
  mkdirSync(dir);
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

const VERBS_WITH_ID: Array<{ verb: string; args: (id: string, c: Case) => string[]; input?: string }> = [
  { verb: 'start', args: (id) => ['start', id] },
  { verb: 'state', args: (id) => ['state', id] },
  { verb: 'kill', args: (id) => ['kill', id] },
  { verb: 'kill with a signal', args: (id) => ['kill', '--all', id, 'KILL'] },
  { verb: 'stop', args: (id) => ['stop', '--timeout', '1', id] },
  { verb: 'delete', args: (id) => ['delete', id] },
  { verb: 'exec', args: (id) => ['exec', id, 'true'] },
  { verb: 'exec --detach', args: (id) => ['exec', '-d', id, 'sleep', '1'] },
  { verb: 'ps', args: (id) => ['ps', id] },
  { verb: 'pause', args: (id) => ['pause', id] },
  { verb: 'resume', args: (id) => ['resume', id] },
  {
    verb: 'update',
    args: (id, c) => {
      const file = join(c.dir, 'resources.json');
      writeFileSync(file, '{"pids":{"limit":100}}');
      return ['update', '--resources', file, id];
    },
  },
  { verb: 'update from stdin', args: (id) => ['update', '-r', '-', id], input: '{"pids":{"limit":100}}' },
];

for (const { name: backend, tool } of OCI_CLI_BACKENDS) {
  // The other tool's backend, for the second create of a duplicate id.
  const otherCase = OCI_CLI_BACKENDS.find((b) => b.tool !== tool)!;
  const other: Backend = otherCase.tool;
  describe(`bad input on ${backend}`, { skip: missing('crun', 'runc', 'busybox') }, () => {
    /** create with --runtime BACKEND and a --pid-file; asserts the failure and that nothing is left. */
    async function createFails(bundle: string, id: string, code: number, ...words: Array<string | RegExp>): Promise<string> {
      const c = freshCase();
      const before = mountLines();
      const r = await run(c, ['--runtime', backend, 'create', '--bundle', bundle, '--pid-file', c.pidFile, id]);
      const msg = assertFailure(r, code, ...words);
      assertNothingLeft(c);
      assertNoNewMounts(before);
      return msg;
    }

    describe('invalid container ids', () => {
      test('empty id', async () => {
        await createFails(goodBundle, '', INVALID, 'container id must not be empty');
      });
      test('id with "/"', async () => {
        await createFails(goodBundle, 'a/b', INVALID, 'container id "a/b"', 'must not contain "/"');
        await createFails(goodBundle, '../../etc', INVALID, 'must not contain "/"');
      });
      test('id with ".."', async () => {
        await createFails(goodBundle, 'a..b', INVALID, 'container id "a..b"', 'must not contain ".."');
        await createFails(goodBundle, '..', INVALID, 'must not contain ".."');
      });
      test('id with whitespace', async () => {
        for (const id of ['a b', 'a\tb', ' a']) await createFails(goodBundle, id, INVALID, 'container id', 'must not contain whitespace');
      });
      test('id with a control character', async () => {
        for (const id of ['a\x01b', 'a\x1b[31mb', 'a\x7fb', 'a\nb', 'a\rb']) {
          await createFails(goodBundle, id, INVALID, 'container id', 'control characters');
        }
      });
      test('a control character in an id that fails another check still gives one line', async () => {
        await createFails(goodBundle, 'a/\nberth: forged', INVALID, 'must not contain "/"');
      });
      test('id over 255 bytes (a directory name cannot be longer)', async () => {
        await createFails(goodBundle, 'x'.repeat(256), INVALID, 'container id is 256 bytes long', 'limit is 255');
        await createFails(goodBundle, 'é'.repeat(513), INVALID, 'container id is 1026 bytes long');
      });
      test('id starting with "-" or "."', async () => {
        await createFails(goodBundle, '.hidden', INVALID, 'must not start with "."');
        // after -- so that it is an operand, not an option
        const c = freshCase();
        const r = await run(c, ['--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, '--', '-x']);
        assertFailure(r, INVALID, 'must not start with "-"');
        assertNothingLeft(c);
      });
    });

    describe('invalid bundles', () => {
      test('missing bundle directory', async () => {
        const missingDir = join(work.path, 'no-such-bundle');
        await createFails(missingDir, 'c1', INVALID, `bundle directory ${missingDir} does not exist`);
      });
      test('bundle is a file', async () => {
        const file = join(work.path, `file-${seq++}`);
        writeFileSync(file, '');
        await createFails(file, 'c1', INVALID, `bundle ${file} is not a directory`);
      });
      test('bundle without config.json', async () => {
        const dir = badBundle(undefined);
        await createFails(dir, 'c1', INVALID, `bundle ${dir} has no config.json`);
      });
      test('config.json that is not JSON', async () => {
        // 'not\njson' makes JSON.parse quote a line break: the message must stay one line.
        for (const text of ['not json{', 'not\njson\n', '{"ociVersion":', '', '{\n  "ociVersion": "1.0.2",\n  oops\n}\n']) {
          const dir = badBundle(text);
          await createFails(dir, 'c1', INVALID, `${dir}/config.json is not valid JSON`);
        }
      });
      const invalidConfigs: Array<[string, (c: Record<string, any>) => void, string[]]> = [
        ['process.args a string instead of an array', (c) => (c.process.args = 'sleep 300'), ['process.args', 'Expected array, received string']],
        ['missing process.args', (c) => delete c.process.args, ['process.args is required']],
        ['empty process.args', (c) => (c.process.args = []), ['process.args must name the program to run']],
        ['missing root.path', (c) => delete c.root.path, ['root.path is required']],
        ['wrong type of root', (c) => (c.root = 'rootfs'), ['root', 'Expected object, received string']],
        ['wrong type of root.path', (c) => (c.root.path = ['rootfs']), ['root.path', 'Expected string, received array']],
        ['missing process', (c) => delete c.process, ['process is required']],
        ['relative process.cwd', (c) => (c.process.cwd = 'tmp'), ['process.cwd must be an absolute path']],
        // crun 1.8.1 took this one and left 25 mounts on the host.
        ['linux.namespaces a string', (c) => (c.linux.namespaces = 'pid'), ['linux.namespaces: must be an array of', '[{"type": "pid"}]']],
        ['an unknown namespace type', (c) => (c.linux.namespaces = [{ type: 'pidns' }]), ['linux.namespaces.0.type: must be one of pid, network']],
        ['a hook without an absolute path', (c) => (c.hooks = { prestart: [{ path: 'true' }] }), ['hooks.prestart.0.path', 'must be an absolute path']],
        ['a hook timeout of 0', (c) => (c.hooks = { poststop: [{ path: '/bin/true', timeout: 0 }] }), ['hooks.poststop.0.timeout', 'at least 1 second']],
        ['uidMappings without size', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 0 }]), ['linux.uidMappings.0.size is required']],
        ['a memory limit as a string', (c) => (c.linux.resources = { memory: { limit: '1G' } }), ['linux.resources.memory.limit', 'must be an integer']],
        ['process.rlimits an object', (c) => (c.process.rlimits = { RLIMIT_NOFILE: 1 }), ['process.rlimits', 'Expected array']],
        ['ociVersion 2.0.0', (c) => (c.ociVersion = '2.0.0'), ['ociVersion "2.0.0" is not supported', 'berth supports 1.0.0 to 1.3.x']],
        ['ociVersion 0.9.0', (c) => (c.ociVersion = '0.9.0'), ['ociVersion "0.9.0" is not supported']],
        ['ociVersion not SemVer', (c) => (c.ociVersion = '1.0'), ['ociVersion "1.0" is not SemVer', 'MUST be in SemVer v2.0.0 format']],
      ];
      for (const [name, edit, words] of invalidConfigs) {
        test(`config.json not a valid OCI config: ${name}`, async () => {
          const dir = badBundle(edit);
          await createFails(dir, 'c1', INVALID, `${dir}/config.json is not a valid OCI runtime config`, ...words);
        });
      }
      test('config.json that is JSON but not an object', async () => {
        const dir = badBundle('[1, 2]');
        await createFails(dir, 'c1', INVALID, 'is not a valid OCI runtime config');
      });
      test('root.path whose directory does not exist', async () => {
        const dir = badBundle((c) => (c.root.path = 'no-such-rootfs'), { rootfs: false });
        await createFails(dir, 'c1', INVALID, `root filesystem ${dir}/no-such-rootfs`, 'does not exist', 'an absolute path or a relative path to the bundle');
        const abs = badBundle((c) => (c.root.path = '/nonexistent/rootfs'));
        await createFails(abs, 'c1', INVALID, 'root filesystem /nonexistent/rootfs', 'does not exist');
      });
      test('root.path that is a file', async () => {
        const dir = badBundle((c) => (c.root.path = 'rootfs-file'));
        writeFileSync(join(dir, 'rootfs-file'), '');
        await createFails(dir, 'c1', INVALID, `root filesystem ${dir}/rootfs-file (root.path "rootfs-file"`, 'is not a directory');
      });
      test('run --detach and run in the foreground fail the same way', async () => {
        for (const verbArgs of [['run', '--detach'], ['run']]) {
          const c = freshCase();
          const dir = badBundle((c2) => delete c2.process.args);
          const r = await run(c, ['--runtime', backend, ...verbArgs, '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
          assertFailure(r, INVALID, 'process.args is required');
          assertNothingLeft(c);
          const c3 = freshCase();
          assertFailure(await run(c3, ['--runtime', backend, ...verbArgs, '--bundle', goodBundle, 'a/b']), INVALID, 'must not contain "/"');
          assertNothingLeft(c3);
        }
      });
    });

    describe('the backend refuses the bundle', () => {
      test('a program that does not exist: the backend error, and everything undone', async () => {
        const dir = join(work.path, `bundle-${seq++}`);
        makeBusyboxBundle(dir, { args: ['/nonexistent-program'] });
        const c = freshCase();
        const r = await run(c, ['--runtime', backend, 'create', '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
        // The backend's stderr is the container's (inherited): berth's line is the last one.
        const last = r.stderr.trimEnd().split('\n').pop() ?? '';
        assert.ok(last.startsWith(`berth: ${tool} create of container "c1" failed: `), r.stderr);
        assert.ok(last.includes('nonexistent-program'), r.stderr);
        assert.equal(r.code, BACKEND_FAILED, r.stderr);
        assertNothingLeft(c);
      });

      // Legal values this host cannot use: the backend's own reason, exit 1, nothing left (no
      // record, no backend state, no cgroup, no mount). The kernel has every namespace type
      // (/proc/self/ns lists time too); crun 1.8.1 and runc 1.1.5 cannot make a time namespace.
      const notANamespace = join(work.path, 'not-a-namespace');
      /** The bundle's network namespace (runc's default config has one) joined from `path`. */
      const joinNet = (path: string) => (c: Record<string, any>) => {
        c.linux.namespaces = [...c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network'), { type: 'network', path }];
      };
      const unusable: Array<[string, (c: Record<string, any>) => void, RegExp]> = [
        ['a namespace path that is a plain file', joinNet(notANamespace), /setns|Invalid argument/],
        ['a namespace path that does not exist', joinNet('/nonexistent/ns/net'), /nonexistent\/ns\/net|no such file/i],
        ['a time namespace, which the backend cannot make', (c) => c.linux.namespaces.push({ type: 'time' }), /./],
      ];
      for (const [name, edit, why] of unusable) {
        test(`${name}: the backend's reason, and everything undone`, async () => {
          writeFileSync(notANamespace, 'not a namespace\n');
          const dir = join(work.path, `bundle-${seq++}`);
          makeBusyboxBundle(dir, { edit });
          const c = freshCase();
          const before = mountLines();
          const r = await run(c, ['--runtime', backend, 'create', '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
          const last = r.stderr.trimEnd().split('\n').pop() ?? '';
          assert.ok(last.startsWith(`berth: ${tool} create of container "c1" failed: `), r.stderr);
          assert.match(last, why);
          assert.equal(r.code, BACKEND_FAILED, r.stderr);
          assertNothingLeft(c);
          assertNoNewMounts(before);
        });
      }
    });

    describe('limits and files that are not regular files (issue 14)', () => {
      test('config.json that is a FIFO: refused at once, never read (0.8.0 hung forever)', async () => {
        const dir = badBundle(undefined);
        execFileSync('mkfifo', [join(dir, 'config.json')]);
        const c = freshCase();
        const r = await berth(['--root', c.root, '--runtime', backend, 'create', '--bundle', dir, '--pid-file', c.pidFile, 'c1'], { env: baseEnv, timeoutMs: 15_000 });
        assert.notEqual(r.code, null, 'berth returned (it was not killed after 15 s)');
        assertFailure(r, INVALID, `${dir}/config.json is a FIFO (named pipe), not a regular file`, "a bundle's config.json must be a regular file");
        assertNothingLeft(c);
      });
      test('config.json that is a directory or a device', async () => {
        const asDir = badBundle(undefined);
        mkdirSync(join(asDir, 'config.json'));
        await createFails(asDir, 'c1', INVALID, `${asDir}/config.json is a directory, not a regular file`);
        const asDevice = badBundle(undefined);
        symlinkSync('/dev/zero', join(asDevice, 'config.json'));
        await createFails(asDevice, 'c1', INVALID, `${asDevice}/config.json is a character device, not a regular file`);
      });
      test('config.json over the 4 MiB limit: refused before it is parsed, naming the limit and its key', async () => {
        const dir = join(work.path, `bundle-${seq++}`);
        makeBusyboxBundle(dir, { annotations: { big: 'x'.repeat(4 * 1024 * 1024) } });
        const size = statSync(join(dir, 'config.json')).size;
        await createFails(dir, 'c1', INVALID, `${dir}/config.json is ${size} bytes, over the limit of 4 MiB`, '[limits] config_json_max_bytes');
      });
      test('[limits] config_json_max_bytes sets the limit', async () => {
        const c = freshCase();
        const config = configFile('[limits]\nconfig_json_max_bytes = 1024\n');
        const r = await run(c, ['--config', config, '--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
        assertFailure(r, INVALID, `${goodBundle}/config.json is`, 'over the limit of 1 KiB');
        assertNothingLeft(c);
      });
      test('a large config.json is not copied into the record (only its annotations are)', async () => {
        const c = freshCase();
        const dir = join(work.path, `bundle-${seq++}`);
        makeBusyboxBundle(dir, { edit: (cfg) => (cfg['x-berth-test'] = { blob: 'x'.repeat(3 * 1024 * 1024) }) });
        // No --pid-file: a container created and deleted keeps the caller's pid file (as with runc).
        await setup(c, ['--runtime', backend, 'create', '--bundle', dir, 'big']);
        try {
          const size = statSync(join(berthStateDir(c.root), 'containers/big/record.json')).size;
          assert.ok(size < 4096, `the record is ${size} bytes`);
        } finally {
          await berth(['--root', c.root, 'delete', '--force', 'big'], { env: baseEnv });
        }
        assertNothingLeft(c);
      });
      test('process.args [""]: refused before any backend runs, quoting the rule (0.8.0: "Operation not permitted")', async () => {
        const dir = badBundle((cfg) => (cfg.process.args = ['']));
        await createFails(dir, 'c1', INVALID, `${dir}/config.json: process.args[0] is empty`, `config.md, Process: "at least one entry is REQUIRED, and that entry is used with the same semantics as execvp's file"`);
      });
      test('--preserve-fds 100000: the descriptor that is not open, not "spawn EBADF"', async () => {
        for (const verb of ['create', 'run']) {
          const c = freshCase();
          const r = await run(c, ['--runtime', backend, verb, '--preserve-fds', '100000', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
          assertFailure(r, INVALID, '--preserve-fds 100000 asks for descriptors 3 … 100002', 'is not open in berth');
          assertNothingLeft(c);
        }
      });
    });

    describe('deletion follows the record, not today\'s config (issue 14)', () => {
      for (const [name, how] of [
        ['--config', (file: string) => ({ args: ['--config', file], env: baseEnv })],
        ['$BERTH_CONFIG', (file: string) => ({ args: [] as string[], env: { ...baseEnv, BERTH_CONFIG: file } })],
      ] as const) {
        test(`delete --force under a ${name} file with a syntax error removes the container, with a warning`, async () => {
          const c = freshCase();
          // No --pid-file: a container created and deleted keeps the caller's pid file (as with runc).
          await setup(c, ['--runtime', backend, 'run', '-d', '--bundle', goodBundle, 'doomed']);
          const pid = (await status(c, 'doomed')).pid;
          const broken = configFile('default_runtime = "crun\n[[routes]\n');
          const { args, env } = how(broken);
          const r = await run(c, [...args, 'delete', '--force', 'doomed'], env);
          assert.equal(r.code, 0, r.stderr);
          assert.ok(r.stderr.includes(`config file ${broken} is not valid TOML`) && r.stderr.includes('"doomed\\" as its record says, with the default settings'), r.stderr);
          assertNothingLeft(c);
          // Gone, or a zombie its (non-reaping) adoptive parent has yet to collect.
          await waitFor(`its init, pid ${pid}, to be gone`, () => goneOrZombie(pid) || undefined, 5_000);
          // Other verbs still refuse the broken file: only deletion goes on without it.
          const again = await run(c, [...args, 'create', '--bundle', goodBundle, 'c2'], env);
          assertFailure(again, INVALID, `config file ${broken} is not valid TOML`);
          assertNothingLeft(c);
        });
      }
    });

    describe('duplicate id', () => {
      for (const second of [backend, otherCase.name]) {
        test(`create twice (the second with --runtime ${second}): exit 5, the first untouched`, async () => {
          const c = freshCase();
          const firstPid = join(c.dir, 'first.pid');
          await setup(c, ['--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', firstPid, 'dup']);
          try {
            const snapBefore = snapshot(c.root);
            const stateBefore = await status(c, 'dup');
            assert.equal(stateBefore.status, 'created');
            const r = await run(c, ['--runtime', second, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'dup']);
            assertFailure(r, STATE, 'container "dup" already exists');
            assert.equal(existsSync(c.pidFile), false, 'no pid file for the failed create');
            assert.equal(readFileSync(firstPid, 'utf8').trim(), String(stateBefore.pid), "the first create's pid file is untouched");
            // Only the other backend's (empty) state directory may have appeared.
            const snapAfter = snapshot(c.root);
            delete snapAfter[`${other}/`];
            delete snapBefore[`${other}/`];
            assert.deepEqual(snapAfter, snapBefore, 'ROOT unchanged');
            assertNoTemps(c.root);
            assert.deepEqual(await status(c, 'dup'), stateBefore);
            assert.deepEqual(backendIds(c.root, tool), ['dup']);
            assert.deepEqual(backendIds(c.root, other), []);
            assert.equal(backendStatus(c, tool, 'dup'), 'created');
          } finally {
            await berth(['--root', c.root, 'delete', '--force', 'dup'], { env: baseEnv });
          }
          assertNothingLeft(c);
        });
      }
    });

    describe('unknown id', () => {
      for (const { verb, args, input } of VERBS_WITH_ID) {
        test(verb, async () => {
          const c = freshCase();
          const r = await run(c, ['--runtime', backend, ...args('nosuch', c)], baseEnv, input);
          assertFailure(r, NOT_FOUND, 'container "nosuch" does not exist');
          assertNothingLeft(c);
        });
      }
      test('delete --force of an unknown id succeeds quietly, as in runc and crun', async () => {
        const c = freshCase();
        const r = await run(c, ['--runtime', backend, 'delete', '--force', 'nosuch']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.equal(r.stdout, '');
        assertNothingLeft(c);
        const invalid = await run(c, ['delete', '--force', 'a/b']);
        assertFailure(invalid, INVALID, 'must not contain "/"');
        assertNothingLeft(c);
      });
      test('an unknown id next to a container that exists', async () => {
        const c = freshCase();
        await setup(c, ['--runtime', backend, 'create', '--bundle', goodBundle, 'present']);
        try {
          const snapBefore = snapshot(c.root);
          for (const { args, input } of VERBS_WITH_ID) {
            assertFailure(await run(c, args('absent', c), baseEnv, input), NOT_FOUND, 'container "absent" does not exist');
          }
          assert.deepEqual(snapshot(c.root), snapBefore);
          assert.equal((await status(c, 'present')).status, 'created');
        } finally {
          await berth(['--root', c.root, 'delete', '--force', 'present'], { env: baseEnv });
        }
      });
      test('an invalid id is refused before the lookup', async () => {
        const c = freshCase();
        for (const { args, input } of VERBS_WITH_ID) {
          assertFailure(await run(c, args('a/b', c), baseEnv, input), INVALID, 'must not contain "/"');
        }
        assertNothingLeft(c);
      });
    });

    describe('a running container', () => {
      const c = freshCase();
      const id = `busy-${backend}`;
      let pid = 0;
      before(async () => {
        await setup(c, ['--runtime', backend, 'run', '--detach', '--bundle', goodBundle, '--pid-file', c.pidFile, id]);
        const s = await status(c, id);
        assert.equal(s.status, 'running');
        pid = s.pid;
      });
      after(async () => {
        await berth(['--root', c.root, 'delete', '--force', id], { env: baseEnv });
      });

      /** Runs a failing call and checks the container is exactly as it was: running, same pid. */
      async function untouched(args: string[], env: NodeJS.ProcessEnv, code: number, ...words: Array<string | RegExp>): Promise<void> {
        const snapBefore = snapshot(c.root);
        assertFailure(await run(c, args, env), code, ...words);
        assert.deepEqual(snapshot(c.root), snapBefore, 'ROOT unchanged');
        assertNoTemps(c.root);
        const s = await status(c, id);
        assert.equal(s.status, 'running');
        assert.equal(s.pid, pid);
        assert.equal(backendStatus(c, tool, id), 'running');
        process.kill(pid, 0); // still alive
      }

      test('start of a running container', async () => {
        await untouched(['start', id], baseEnv, STATE, `cannot start container "${id}"`, 'it is running', 'only a created container can be started');
      });
      test('delete of a running container without --force', async () => {
        await untouched(['delete', id], baseEnv, STATE, `cannot delete container "${id}"`, 'it is running', 'delete --force');
      });
      test('resume of a running container', async () => {
        await untouched(['resume', id], baseEnv, STATE, `cannot resume container "${id}"`, 'it is running');
      });
      test('an unknown signal name', async () => {
        await untouched(['kill', id, 'NOPE'], baseEnv, INVALID, 'unknown signal "NOPE"');
        await untouched(['kill', id, 'SIGNOPE'], baseEnv, INVALID, 'unknown signal "SIGNOPE"');
      });
      test('an unknown signal number', async () => {
        await untouched(['kill', id, '99'], baseEnv, INVALID, 'unknown signal 99');
        await untouched(['kill', '--all', id, '0'], baseEnv, INVALID, 'unknown signal 0');
      });
      test('kill with too many operands', async () => {
        await untouched(['kill', id, 'TERM', 'extra'], baseEnv, USAGE, 'kill takes at most 2 operands');
      });
      test(`the ${backend} binary gone from PATH: kill cannot reach the backend`, async () => {
        const env = { ...baseEnv, PATH: nodeOnlyPath() };
        await untouched(['kill', id, 'KILL'], env, BACKEND_UNUSABLE, `${tool} binary not found in PATH`, `apt-get install ${tool}`);
      });
      test('exec of an empty program, quoting the rule', async () => {
        await untouched(['exec', id, ''], baseEnv, INVALID, `exec in container "${id}": the program to run is an empty string`, "execvp's file");
      });
      test('exec --preserve-fds 100000', async () => {
        await untouched(['exec', '--preserve-fds', '100000', id, 'true'], baseEnv, INVALID, '--preserve-fds 100000', 'is not open in berth');
      });
      test('update with resources that are not JSON', async () => {
        const file = join(c.dir, 'bad-resources.json');
        writeFileSync(file, '{"pids":');
        await untouched(['update', '--resources', file, id], baseEnv, INVALID, `resources in ${file} are not valid JSON`);
        // JSON.parse quotes the bad text, line breaks included: still one line.
        writeFileSync(file, 'not\njson\n');
        await untouched(['update', '--resources', file, id], baseEnv, INVALID, `resources in ${file} are not valid JSON`);
      });
    });

    describe('the backend binary is missing', () => {
      test('a configured path that does not exist', async () => {
        const c = freshCase();
        const config = configFile(`[runtimes.${tool}]\npath = "/nonexistent/${tool}"\n`);
        const r = await run(c, ['--config', config, '--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
        assertFailure(r, BACKEND_UNUSABLE, `${tool} binary /nonexistent/${tool}`, `runtimes.${tool}.path`, 'does not exist');
        assertNothingLeft(c);
      });
      test('not on PATH: the message names the backend and how to install it', async () => {
        const c = freshCase();
        const env = { ...baseEnv, PATH: nodeOnlyPath() };
        const r = await run(c, ['--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1'], env);
        assertFailure(r, BACKEND_UNUSABLE, `${tool} binary not found in PATH`, `install it with "apt-get install ${tool}"`);
        assertNothingLeft(c);
      });
      test('not on PATH, chosen by the config default', async () => {
        const c = freshCase();
        const env = { ...baseEnv, PATH: nodeOnlyPath() };
        const config = configFile(`default_runtime = "${backend}"\n`);
        const r = await run(c, ['--config', config, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1'], env);
        assertFailure(r, BACKEND_UNUSABLE, `${tool} binary not found in PATH`, `apt-get install ${tool}`);
        assertNothingLeft(c);
      });
    });

    describe('invalid config file', () => {
      const cases: Array<[string, string, Array<string | RegExp>]> = [
        ['bad TOML', 'default_runtime = "crun\n[[routes]\n', ['is not valid TOML (line 1, column']],
        ['bad TOML: an unclosed array', 'routes = [\n', ['is not valid TOML']],
        ['an unknown top-level key', 'default_runtime = "crun"\nfoo = 1\n', ['unknown key "foo"']],
        ['an unknown key in a runtime table', `[runtimes.${backend}]\npaht = "/usr/bin/${backend}"\n`, [`runtimes.${backend}: unknown key "paht"; did you mean "path"?`]],
        ['a route without a matcher', `[[routes]]\nruntime = "${backend}"\n`, ['routes.0', 'exactly one of id_glob or id_regex']],
        ['a route with a bad regex', `[[routes]]\nid_regex = "(["\nruntime = "${backend}"\n`, ['routes.0.id_regex is not a valid regular expression']],
        ['a wrong type', 'default_runtime = 7\n', ['default_runtime']],
      ];
      for (const [name, text, words] of cases) {
        test(name, async () => {
          const c = freshCase();
          const config = configFile(text);
          const r = await run(c, ['--config', config, '--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
          assertFailure(r, INVALID, `config file ${config}`, ...words);
          // The faulty line, and a caret under the fault.
          if (name.startsWith('bad TOML')) assert.match(r.stderr, /\n  \d+ \| .*\n  +\| +\^\n$/, r.stderr);
          assertNothingLeft(c);
        });
      }
      test('a --config file that does not exist', async () => {
        const c = freshCase();
        const config = join(work.path, 'no-such-config.toml');
        const r = await run(c, ['--config', config, '--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
        assertFailure(r, INVALID, `cannot read config file ${config}`);
        assertNothingLeft(c);
      });
      test('$BERTH_CONFIG naming a bad file', async () => {
        const c = freshCase();
        const config = configFile('foo = 1\n');
        const r = await run(c, ['--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1'], { ...baseEnv, BERTH_CONFIG: config });
        assertFailure(r, INVALID, `config file ${config}`, '"foo"');
        assertNothingLeft(c);
      });
    });

    describe('JSON log', () => {
      const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

      function readLog(file: string): Array<Record<string, unknown>> {
        const text = readFileSync(file, 'utf8');
        assert.ok(text.endsWith('\n'), 'the log ends with a newline');
        const lines = text.slice(0, -1).split('\n');
        return lines.map((line) => {
          const rec = JSON.parse(line) as Record<string, unknown>;
          assert.equal(typeof rec.level, 'string', line);
          assert.equal(typeof rec.msg, 'string', line);
          assert.equal(typeof rec.time, 'string', line);
          assert.match(rec.time as string, RFC3339, line);
          assert.ok(!Number.isNaN(Date.parse(rec.time as string)), line);
          assert.ok(Math.abs(Date.parse(rec.time as string) - Date.now()) < 60_000, `time is now: ${line}`);
          return rec;
        });
      }

      test('a failing create: the last line is the error, with the message on stderr', async () => {
        const c = freshCase();
        const logFile = join(c.dir, 'berth.log');
        const dir = badBundle((cfg) => (cfg.process.args = 'sh'));
        const r = await run(c, ['--log', logFile, '--log-format', 'json', '--runtime', backend, 'create', '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
        const msg = assertFailure(r, INVALID, 'process.args');
        const lines = readLog(logFile);
        const last = lines.at(-1)!;
        assert.equal(last.level, 'error');
        assert.equal(last.msg, msg);
        assert.equal(last.op, 'create');
        assert.deepEqual(last.err, { type: 'InvalidBundleError', code: 'BERTH_ERR_INVALID_BUNDLE', message: msg, causes: [] });
        assertNothingLeft(c);
      });

      test('with --debug: debug lines first, the error last (duplicate id)', async () => {
        const c = freshCase();
        const logFile = join(c.dir, 'berth.log');
        await setup(c, ['--runtime', backend, 'create', '--bundle', goodBundle, 'dup']);
        try {
          const r = await run(c, ['--log', logFile, '--log-format=json', '--debug', '--runtime', backend, 'create', '--bundle', goodBundle, 'dup']);
          assert.equal(r.code, STATE, r.stderr);
          const firstLine = r.stderr.split('\n')[0]!;
          assert.equal(firstLine, 'berth: container "dup" already exists');
          const lines = readLog(logFile);
          assert.ok(lines.length >= 2, `more than the error line: ${JSON.stringify(lines)}`);
          assert.ok(lines.slice(0, -1).every((l) => l.level === 'debug' || l.level === 'info'), JSON.stringify(lines));
          assert.ok(lines.some((l) => l.level === 'debug' && String(l.msg).includes(`backend ${backend} chosen: --runtime flag`)), JSON.stringify(lines));
          const last = lines.at(-1)!;
          assert.equal(last.level, 'error');
          assert.equal(last.msg, firstLine.slice('berth: '.length));
          assert.equal((last.err as { code: string }).code, 'BERTH_ERR_EXISTS');
        } finally {
          await berth(['--root', c.root, 'delete', '--force', 'dup'], { env: baseEnv });
        }
      });

      test('a backend failure: the backend error is the last line', async () => {
        const c = freshCase();
        const logFile = join(c.dir, 'berth.log');
        const dir = join(work.path, `bundle-${seq++}`);
        makeBusyboxBundle(dir, { args: ['/nonexistent-program'] });
        const r = await run(c, ['--log', logFile, '--log-format', 'json', '--runtime', backend, 'create', '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
        assert.equal(r.code, BACKEND_FAILED, r.stderr);
        const last = readLog(logFile).at(-1)!;
        assert.equal(last.level, 'error');
        assert.equal(`berth: ${String(last.msg)}`, r.stderr.trimEnd().split('\n').pop());
        assert.ok(String(last.msg).startsWith(`${tool} create of container "c1" failed`), String(last.msg));
        assertNothingLeft(c);
      });

      test('the log file is appended to, never truncated', async () => {
        const c = freshCase();
        const logFile = join(c.dir, 'berth.log');
        writeFileSync(logFile, '{"level":"info","msg":"earlier","time":"2024-01-01T00:00:00.000Z"}\n');
        const r = await run(c, ['--log', logFile, '--log-format', 'json', '--runtime', backend, 'create', '--bundle', goodBundle, 'a/b']);
        assertFailure(r, INVALID, 'must not contain "/"');
        const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
        assert.equal(lines.length, 2);
        assert.equal((JSON.parse(lines[0]!) as { msg: string }).msg, 'earlier');
        assert.equal((JSON.parse(lines[1]!) as { level: string }).level, 'error');
        assertNothingLeft(c);
      });

      test('--log-format json without --log: stderr is the one JSON error line', async () => {
        const c = freshCase();
        const r = await run(c, ['--log-format', 'json', '--runtime', backend, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, '']);
        assert.equal(r.code, INVALID);
        assert.match(r.stderr, /^[^\n]*\n$/, `one line: ${JSON.stringify(r.stderr)}`);
        const rec = JSON.parse(r.stderr) as Record<string, unknown>;
        assert.equal(rec.level, 'error');
        assert.equal(rec.msg, 'container id must not be empty');
        assert.match(String(rec.time), RFC3339);
        assertNothingLeft(c);
      });

      test('a text log: logfmt with level=error and the message', async () => {
        const c = freshCase();
        const logFile = join(c.dir, 'berth.log');
        const r = await run(c, ['--log', logFile, '--runtime', backend, 'create', '--bundle', goodBundle, 'a..b']);
        const msg = assertFailure(r, INVALID, 'must not contain ".."');
        const line = readFileSync(logFile, 'utf8').trimEnd().split('\n').pop()!;
        assert.match(line, /^time="[^"]+" level=error msg=/);
        assert.ok(line.includes(`msg=${JSON.stringify(msg)}`), line);
        assertNothingLeft(c);
      });
    });
  });
}

describe('a wrong binary path in the config: an error naming the key, never a route to another backend (issue 14)', { skip: missing('crun', 'runc', 'busybox') }, () => {
  for (const key of ['crun', 'crun-cli']) {
    test(`[runtimes.${key}] path that does not exist, with the default routing (crun auto)`, async () => {
      const c = freshCase();
      const config = configFile(`[runtimes.${key}]\npath = "/nonexistent/crun"\n`);
      const r = await run(c, ['--config', config, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
      // 0.8.0 made the container with runc and said nothing.
      assertFailure(r, BACKEND_UNUSABLE, 'crun binary /nonexistent/crun', `runtimes.${key}.path in the berth config`, 'does not exist', `fix runtimes.${key}.path`);
      assertNothingLeft(c);
    });
  }
});

describe('an explicit --config that does not exist is an error for every verb (issue 14)', { skip: missing('crun', 'runc', 'busybox') }, () => {
  const cases: Array<[string, string[]]> = [
    ['state', ['state', 'c1']],
    ['list', ['list']],
    ['kill', ['kill', 'c1', 'KILL']],
    ['delete --force', ['delete', '--force', 'c1']],
  ];
  for (const [name, args] of cases) {
    test(name, async () => {
      const c = freshCase();
      const config = join(work.path, 'no-such-config.toml');
      const r = await run(c, ['--config', config, ...args]);
      assertFailure(r, INVALID, `cannot read config file ${config} (given by --config): it does not exist`);
      assertNothingLeft(c);
    });
  }
  test('a FIFO as --config: refused without reading it', async () => {
    const c = freshCase();
    const fifo = join(work.path, `fifo-${seq++}.toml`);
    execFileSync('mkfifo', [fifo]);
    const r = await berth(['--root', c.root, '--config', fifo, '--runtime', 'crun', 'create', '--bundle', goodBundle, 'c1'], { env: baseEnv, timeoutMs: 15_000 });
    assertFailure(r, INVALID, `cannot read config file ${fifo} (given by --config): it is a FIFO (named pipe), not a regular file`);
    assertNothingLeft(c);
  });
});

describe('unknown backend names: an error, never a fallback', { skip: missing('crun', 'runc', 'busybox') }, () => {
  test('--runtime nope', async () => {
    const c = freshCase();
    const r = await run(c, ['--runtime', 'nope', 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
    assertFailure(r, BACKEND_UNUSABLE, 'unknown backend "nope"', 'known backends: crun, crun-abi, crun-cli, runc, lxc, pve');
    assertNothingLeft(c);
  });
  test('--runtime nope on run --detach', async () => {
    const c = freshCase();
    const r = await run(c, ['--runtime=nope', 'run', '-d', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
    assertFailure(r, BACKEND_UNUSABLE, 'unknown backend "nope"');
    assertNothingLeft(c);
  });
  test('default_runtime = "nope" in the config', async () => {
    const c = freshCase();
    const config = configFile('default_runtime = "nope"\n');
    const r = await run(c, ['--config', config, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
    // The config file itself is wrong: an invalid-input error that names the file and the key.
    assertFailure(r, INVALID, config, 'default_runtime', 'unknown backend "nope"', 'known backends: crun, crun-abi, crun-cli, runc, lxc, pve');
    assertNothingLeft(c);
  });
  test('a matching config route to "nope"', async () => {
    const c = freshCase();
    const config = configFile('default_runtime = "crun"\n[[routes]]\nid_glob = "web-*"\nruntime = "nope"\n');
    const r = await run(c, ['--config', config, 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'web-1']);
    assertFailure(r, INVALID, config, 'routes.0.runtime', 'unknown backend "nope"');
    assertNothingLeft(c);
  });
  test('the bundle annotation run.berth.runtime = "nope"', async () => {
    const c = freshCase();
    const dir = join(work.path, `bundle-${seq++}`);
    makeBusyboxBundle(dir, { annotations: { 'run.berth.runtime': 'nope' } });
    const r = await run(c, ['create', '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
    assertFailure(r, BACKEND_UNUSABLE, 'unknown backend "nope"');
    assertNothingLeft(c);
  });
});

describe('empty backend names: an error, never the default', { skip: missing('crun', 'runc', 'busybox') }, () => {
  test("--runtime ''", async () => {
    const c = freshCase();
    const r = await run(c, ['--runtime', '', 'create', '--bundle', goodBundle, '--pid-file', c.pidFile, 'c1']);
    assertFailure(r, INVALID, '--runtime must name a backend');
    assertNothingLeft(c);
  });
  test("the bundle annotation run.berth.runtime = ''", async () => {
    const c = freshCase();
    const dir = join(work.path, `bundle-${seq++}`);
    makeBusyboxBundle(dir, { annotations: { 'run.berth.runtime': '' } });
    const r = await run(c, ['create', '--bundle', dir, '--pid-file', c.pidFile, 'c1']);
    assertFailure(r, INVALID, 'run.berth.runtime must name a backend');
    assertNothingLeft(c);
  });
});

describe('bad command lines', { skip: missing('crun', 'runc', 'busybox') }, () => {
  const cases: Array<[string, string[], number, string[]]> = [
    ['unknown verb', ['frobnicate', 'c1'], USAGE, ['unknown verb "frobnicate" (see: berth help)']],
    ['misspelled verb', ['delte', 'c1'], USAGE, ['unknown verb "delte"; did you mean "delete"?']],
    ['misspelled option', ['create', '--bundel', '/b', 'c1'], USAGE, ['unknown option --bundel for create; did you mean --bundle?']],
    ['unknown global option', ['--nope', 'state', 'c1'], USAGE, ['unknown option --nope']],
    ['unknown verb option', ['state', '--force', 'c1'], USAGE, ['unknown option --force for state']],
    ['missing option value', ['create', 'c1', '--bundle'], USAGE, ['option --bundle needs a value']],
    ['missing id', ['start'], USAGE, ['start needs a container id']],
    ['too many operands', ['state', 'a', 'b'], USAGE, ['state takes one operand, got 2']],
    ['exec without a command', ['exec', 'c1'], USAGE, ['exec needs a command']],
    ['bad --log-format', ['--log-format', 'xml', 'state', 'c1'], USAGE, ['--log-format must be text or json']],
    ['bad --preserve-fds', ['create', '--preserve-fds', 'two', 'c1'], USAGE, ['--preserve-fds takes a whole number']],
    ['bad stop --timeout', ['stop', '-t', 'soon', 'c1'], USAGE, ['--timeout takes seconds']],
    ['update without --resources', ['update', 'c1'], USAGE, ['update needs --resources']],
  ];
  for (const [name, args, code, words] of cases) {
    test(name, async () => {
      const c = freshCase();
      const r = await run(c, ['--runtime', 'crun', ...args]);
      assertFailure(r, code, ...words);
      assertNothingLeft(c);
    });
  }
});
