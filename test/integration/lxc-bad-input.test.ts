// Bad input on the lxc backend, through the real CLI and real LXC: a clear error naming the
// problem, the documented exit code, and nothing left behind — no record, no LXC config
// directory, no cgroup, no LXC lock file, no mount.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, type BerthResult } from '../helpers/berth.js';
import { busyboxConfig, makeBusyboxBundle, tempDir, walk } from '../helpers/bundle.js';
import { rootCgroups } from '../helpers/cgroups.js';
import { ALL_BACKENDS, lxcIds } from '../helpers/host.js';
import { berthStateDir } from '../../src/core/state-root.js';

const lxcCase = ALL_BACKENDS.find((b) => b.name === 'lxc');
const skip = lxcCase ? lxcCase.skip : 'lxc is not among BERTH_TEST_BACKENDS';

const INVALID = 3;
const BACKEND_UNUSABLE = 6;
const BACKEND_FAILED = 1;

const env: NodeJS.ProcessEnv = { ...process.env };
delete env.BERTH_CONFIG;

describe('bad input on lxc', { skip }, () => {
  const work = tempDir('berth-lxc-bad-');
  let good = '';
  let seq = 0;
  before(() => {
    good = makeBusyboxBundle(join(work.path, 'good'), { args: ['sleep', '300'] });
  });
  const roots: string[] = [];
  after(async () => {
    // A test that failed by succeeding leaves a container: remove it before its ROOT goes.
    for (const root of roots) for (const id of lxcIds(root)) await berth(['--root', root, 'delete', '--force', id], { env });
    work.remove();
  });

  function freshRoot(): string {
    const root = join(work.path, `root-${seq++}`);
    roots.push(root);
    return root;
  }

  function bundle(edit: (c: Record<string, any>) => void, args: string[] = ['sleep', '300']): string {
    const dir = join(work.path, `bundle-${seq++}`);
    mkdirSync(dir);
    symlinkSync(join(good, 'rootfs'), join(dir, 'rootfs'));
    return makeBusyboxBundle(dir, { args, edit });
  }

  function oneLine(r: BerthResult, code: number, ...words: Array<string | RegExp>): string {
    const shown = `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
    assert.match(r.stderr, /^berth: [^\n]*\n$/, `one "berth: ..." line on stderr: ${shown}`);
    for (const w of words) typeof w === 'string' ? assert.ok(r.stderr.includes(w), `names ${JSON.stringify(w)}: ${shown}`) : assert.match(r.stderr, w, shown);
    assert.equal(r.code, code, shown);
    return r.stderr;
  }

  /** No record, no LXC state, no cgroup, no lock file, no mount of the bundle or of ROOT. */
  function assertNothingLeft(root: string, bundleDir: string): void {
    // identity.json is the root's own (it names the root's cgroups), made on first use.
    const left = walk(root).filter((p) => !['@berth/', '@berth/containers/', '@berth/lxc/', '@berth/identity.json'].includes(p) && !/^@berth\/journal\//.test(p));
    assert.deepEqual(left, [], `left under ROOT: ${left.join(', ')}`);
    assert.deepEqual(lxcIds(root), []);
    const cgroups = rootCgroups(root);
    assert.deepEqual(cgroups, [], 'cgroups of this root left');
    assert.equal(existsSync(join('/run/lxc/lock', berthStateDir(root), 'lxc')), false, 'LXC lock directory left');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root) || l.includes(bundleDir) || l.includes(good));
    assert.deepEqual(mounts, []);
  }

  async function createFails(b: string, code: number, ...words: Array<string | RegExp>): Promise<void> {
    const root = freshRoot();
    const r = await berth(['--root', root, '--runtime', 'lxc', 'create', '--bundle', b, 'c1'], { env });
    oneLine(r, code, ...words);
    assertNothingLeft(root, b);
  }

  test('a field that cannot be mapped: exit 3 naming the field', async () => {
    await createFails(bundle((c) => c.linux.namespaces.push({ type: 'time', path: '/proc/self/ns/time' })), INVALID, 'linux.namespaces[5].path', 'cannot join a time namespace');
    await createFails(bundle((c) => (c.process.env = ['PATH=/bin', 'LEAK'])), INVALID, 'process.env[1]');
    await createFails(bundle((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts'))), INVALID, 'hostname');
  });

  test('a namespace to join that is not there, not a namespace or of another type: exit 3 naming the path, nothing made', async () => {
    const joinNet = (path: string) => (c: Record<string, any>) => {
      c.linux.namespaces = [...c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network'), { type: 'network', path }];
    };
    const notNs = join(work.path, 'not-a-namespace');
    writeFileSync(notNs, '');
    // A process that is not there (the /proc/PID/ns/TYPE form), a file that is not there, a plain file, another type.
    await createFails(bundle(joinNet('/proc/999999999/ns/net')), INVALID, 'linux.namespaces[4].path: /proc/999999999/ns/net is not a network namespace: No such file or directory');
    await createFails(bundle(joinNet('/run/netns/berth-no-such-netns')), INVALID, 'is not a network namespace: No such file or directory');
    await createFails(bundle(joinNet(notNs)), INVALID, `${notNs} is not a network namespace: not a namespace file`);
    await createFails(bundle(joinNet('/proc/self/ns/ipc')), INVALID, '/proc/self/ns/ipc is not a network namespace: it is a namespace of type ipc');
  });

  test('a rootfs that is not a directory', async () => {
    const dir = join(work.path, `bundle-${seq++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'rootfs'), 'not a directory');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(busyboxConfig()));
    await createFails(dir, INVALID, 'is not a directory');
  });

  test('a program that is not in the image: the init reports it, create fails, everything undone', async () => {
    await createFails(bundle(() => undefined, ['/nonexistent-program']), BACKEND_FAILED, 'lxc create of container "c1" failed', 'nonexistent-program');
  });

  test('LXC fails to set the container up (a bind mount of a missing source): its error, everything undone', async () => {
    await createFails(bundle((c) => c.mounts.push({ destination: '/data', type: 'bind', source: join(work.path, 'missing'), options: ['bind'] })), BACKEND_FAILED, 'lxc create of container "c1" failed', /Failed to mount .*missing/);
  });

  test('the init is missing (helpers not built): exit 6 naming the helper and how to build it; doctor says so', async () => {
    const helpers = join(work.path, 'no-helpers');
    mkdirSync(helpers, { recursive: true });
    const noInit = { ...env, BERTH_LXC_HELPERS: helpers };
    const root = freshRoot();
    oneLine(await berth(['--root', root, '--runtime', 'lxc', 'create', '--bundle', good, 'c1'], { env: noInit }), BACKEND_UNUSABLE, 'backend lxc is not usable', `${helpers}/berth-lxc-init`, 'scripts/build-lxc-helpers.sh');
    assertNothingLeft(root, good);
    const doctor = await berth(['--root', root, 'doctor', '--format', 'json'], { env: noInit });
    const report = JSON.parse(doctor.stdout) as { backends: Array<{ name: string; usable: boolean; reason: string }> };
    const lxc = report.backends.find((b) => b.name === 'lxc');
    assert.equal(lxc?.usable, false);
    assert.match(lxc?.reason ?? '', /berth-lxc-init is missing/);
  });

  test('LXC not installed (not on PATH): exit 6 naming how to install it; doctor says so', async () => {
    // A PATH with node alone (node lives in /usr/bin here, next to LXC's tools).
    const nodeDir = join(work.path, 'node-only');
    mkdirSync(nodeDir);
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    const noLxc = { ...env, PATH: nodeDir };
    const root = freshRoot();
    oneLine(await berth(['--root', root, '--runtime', 'lxc', 'create', '--bundle', good, 'c1'], { env: noLxc }), BACKEND_UNUSABLE, 'LXC is not installed', 'apt-get install lxc');
    assertNothingLeft(root, good);
    const doctor = await berth(['--root', root, 'doctor', '--format', 'json'], { env: noLxc });
    const lxc = (JSON.parse(doctor.stdout) as { backends: Array<{ name: string; usable: boolean; reason: string }> }).backends.find((b) => b.name === 'lxc');
    assert.equal(lxc?.usable, false);
    assert.match(lxc?.reason ?? '', /LXC is not installed/);
  });

  test('a console socket without process.terminal (exit 3), or one nobody listens on (exit 1): nothing left', async () => {
    let root = freshRoot();
    let r = await berth(['--root', root, '--runtime', 'lxc', 'create', '--bundle', good, '--console-socket', join(work.path, 'sock'), 'c1'], { env });
    oneLine(r, INVALID, '--console-socket needs process.terminal: true');
    assertNothingLeft(root, good);
    const withTerminal = bundle((c) => (c.process.terminal = true));
    root = freshRoot();
    r = await berth(['--root', root, '--runtime', 'lxc', 'create', '--bundle', withTerminal, '--console-socket', join(work.path, 'no-listener'), 'c1'], { env });
    oneLine(r, BACKEND_FAILED, 'cannot connect to the console socket');
    assertNothingLeft(root, withTerminal);
  });
});
