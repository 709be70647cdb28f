// The OCI → LXC mapping checked from inside real LXC containers: what the process sees is what
// the bundle asked for (env, cwd, uid/gid/groups, hostname, a read-only bind mount, the memory
// limit of its cgroup, an rlimit, awkward arguments, a tmpfs size), through berth --runtime lxc.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS, lxcIds } from '../helpers/host.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const lxcCase = ALL_BACKENDS.find((b) => b.name === 'lxc');
const skip = lxcCase ? lxcCase.skip : 'lxc is not among BERTH_TEST_BACKENDS';

/** Arguments LXC's own lxc.init.cmd parsing would break (it splits on spaces, no quoting). */
const AWKWARD = ['a b', '"double"', "'single'", '$HOME', 'back\\slash', '', 'two  spaces', 'tab\there', '%41', 'naïve'];

/** The container's memory limit as it reads it from its own cgroup (root only: the files are root's). */
const MEMORY_LIMIT =
  'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/memory.max; else p=$(grep :memory: /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup/memory$p/memory.limit_in_bytes; fi';

// Prints one fact per line, NAME=value, then every argument as <arg>.
const PROBE = [
  'echo "env=$FOO"',
  'echo "cwd=$(pwd)"',
  'echo "ids=$(id -u):$(id -g):$(id -G)"',
  'echo "hostname=$(hostname)"',
  'echo "data=$(grep " /data " /proc/self/mountinfo | cut -d" " -f6)"',
  'touch /data/x 2>/dev/null && echo "data-write=ok" || echo "data-write=refused"',
  'echo "nofile=$(ulimit -n):$(ulimit -Hn)"',
  'echo "scratch=$(grep " /scratch " /proc/self/mountinfo | sed "s/.*size=\\([0-9]*k\\).*/\\1/")"',
  'echo "root-write=$(touch /rootfile 2>/dev/null && echo ok || echo refused)"',
  'for a in "$@"; do echo "<$a>"; done',
].join('; ');

describe('the OCI → LXC mapping inside real containers', { skip }, () => {
  const tmp = tempDir('berth-lxc-map-');
  const root = join(tmp.path, 'root');
  const data = join(tmp.path, 'data');
  let bundle = '';

  before(() => {
    mkdirSync(data);
    writeFileSync(join(data, 'hello'), 'hi\n');
    bundle = makeBusyboxBundle(join(tmp.path, 'bundle'), {
      args: ['sh', '-c', PROBE, 'sh', ...AWKWARD],
      edit: (c) => {
        c.process.env.push('FOO=a b \'c\' "d" $e \\f');
        c.process.cwd = '/srv/my app';
        c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 27] };
        c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 456 }];
        c.hostname = 'mapped-host';
        c.mounts.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro', 'nosuid'] });
        c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=2m', 'mode=1777'] });
      },
    });
    mkdirSync(join(bundle, 'rootfs/srv/my app'), { recursive: true });
  });
  after(async () => {
    for (const id of lxcIds(root)) await berth(['--root', root, 'delete', '--force', id]);
    tmp.remove();
  });

  test('env, cwd, user and groups, hostname, a read-only bind, an rlimit, a tmpfs size, awkward arguments', async () => {
    const r = await berth(['--root', root, '--runtime', 'lxc', 'run', '--bundle', bundle, 'probe']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    const fact = (name: string): string | undefined => lines.find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
    assert.equal(fact('env'), 'a b \'c\' "d" $e \\f');
    assert.equal(fact('cwd'), '/srv/my app');
    assert.equal(fact('ids'), '1000:1000:1000 5 27');
    assert.equal(fact('hostname'), 'mapped-host');
    assert.match(fact('data') ?? '', /(^|,)ro(,|$)/, 'the bind mount is read-only');
    assert.match(fact('data') ?? '', /(^|,)nosuid(,|$)/);
    assert.equal(fact('data-write'), 'refused');
    assert.equal(fact('nofile'), '321:456');
    assert.equal(fact('scratch'), '2048k');
    assert.equal(fact('root-write'), 'refused', 'root.readonly');
    assert.deepEqual(lines.filter((l) => l.startsWith('<')), AWKWARD.map((a) => `<${a}>`));
    assert.deepEqual(lxcIds(root), [], 'run removes the container');
    assert.ok(!existsSync(join(bundle, 'rootfs/rootfile')));
  });

  test('exec: exact arguments, environment, working directory and user; the memory limit in the container\'s cgroup', async () => {
    const id = 'exec-probe';
    const sleeper = makeBusyboxBundle(join(tmp.path, 'sleeper'), {
      args: ['sleep', '300'],
      // With a cgroup namespace the container sees its own cgroup at the root of each hierarchy.
      edit: (c) => {
        c.linux.resources = { ...c.linux.resources, memory: { limit: 96 * 1024 * 1024 } };
        c.linux.namespaces.push({ type: 'cgroup' });
      },
    });
    mkdirSync(join(sleeper, 'rootfs/srv/my app'), { recursive: true });
    await berthOk(root, ['--runtime', 'lxc', 'run', '--detach', '--bundle', sleeper, id]);
    const out = await berthOk(root, ['exec', '--env', 'BAR=x y', '--cwd', '/srv/my app', id, 'sh', '-c', 'echo "$BAR|$(pwd)|$(id -u)"; for a in "$@"; do echo "<$a>"; done', 'sh', ...AWKWARD]);
    assert.deepEqual(out.split('\n').filter(Boolean), ['x y|/srv/my app|0', ...AWKWARD.map((a) => `<${a}>`)]);
    assert.equal(await berthOk(root, ['exec', id, 'sh', '-c', MEMORY_LIMIT]), `${96 * 1024 * 1024}\n`);
    const processFile = join(tmp.path, 'process.json');
    writeFileSync(processFile, JSON.stringify({ args: ['sh', '-c', 'echo "$(id -u):$(id -g) $ONLY $PATH"'], env: ['ONLY=this', 'PATH=/bin'], cwd: '/', user: { uid: 1234, gid: 99 } }));
    assert.equal(await berthOk(root, ['exec', '--process', processFile, id]), '1234:99 this /bin\n');
    await berthOk(root, ['delete', '--force', id]);
  });

  test("sysctls land in the container's namespaces though /proc/sys is read-only, as Docker's bundles ask", async () => {
    const b = makeBusyboxBundle(join(tmp.path, 'sysctl'), {
      args: ['sh', '-c', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start; echo 1 2>/dev/null > /proc/sys/net/ipv4/ip_unprivileged_port_start && echo writable || echo read-only'],
      edit: (c) => {
        // The default bundle has a network namespace of its own: the sysctl is that one's.
        c.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0' };
        c.linux.readonlyPaths = [...(c.linux.readonlyPaths ?? []), '/proc/sys'];
      },
    });
    const before = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8');
    const r = await berth(['--root', root, '--runtime', 'lxc', 'run', '--bundle', b, 'sysctl']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0\nread-only\n');
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'), before, "the host's value is untouched");
  });

  test('hooks: createRuntime at create, poststart after start, poststop at delete, each with the state on stdin', async () => {
    const log = join(tmp.path, 'hooks.log');
    const stateFile = join(tmp.path, 'poststart.json');
    const hooked = makeBusyboxBundle(join(tmp.path, 'hooked'), {
      edit: (c) =>
        (c.hooks = {
          createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo "created it's" >> '${log}'; cat > '${stateFile}.create'`] }],
          poststart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > '${stateFile}'`] }],
          poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo stopped >> '${log}'; cat > '${stateFile}.stop'`] }],
        }),
    });
    await berthOk(root, ['--runtime', 'lxc', 'create', '--bundle', hooked, 'hooks']);
    assert.equal(readFileSync(log, 'utf8'), "created it's\n");
    await berthOk(root, ['start', 'hooks']);
    const { pid } = JSON.parse(await berthOk(root, ['state', 'hooks'])) as { pid: number };
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { id: string; pid: number; status: string };
    assert.deepEqual([state.id, state.pid, state.status], ['hooks', pid, 'running']);
    const atCreate = JSON.parse(readFileSync(`${stateFile}.create`, 'utf8')) as { id: string; pid: number; status: string };
    assert.deepEqual([atCreate.id, atCreate.pid, atCreate.status], ['hooks', pid, 'creating']);
    await berthOk(root, ['kill', 'hooks', 'KILL']);
    await waitFor('the container to stop', async () => (JSON.parse(await berthOk(root, ['state', 'hooks'])) as { status: string }).status === 'stopped');
    assert.equal(readFileSync(log, 'utf8'), "created it's\n", 'poststop waits for delete');
    await berthOk(root, ['delete', 'hooks']);
    assert.equal(readFileSync(log, 'utf8'), "created it's\nstopped\n", 'poststop ran before delete returned');
    const atDelete = JSON.parse(readFileSync(`${stateFile}.stop`, 'utf8')) as { id: string; status: string };
    assert.deepEqual([atDelete.id, atDelete.status], ['hooks', 'stopped']);
  });

  test('the LXC config berth writes keeps the bundle\'s annotations and uses this host\'s cgroup keys', async () => {
    const annotated = makeBusyboxBundle(join(tmp.path, 'annotated'), { annotations: { 'org.example/team': 'blue' }, edit: (c) => (c.linux.resources = { pids: { limit: 50 } }) });
    await berthOk(root, ['--runtime', 'lxc', 'create', '--bundle', annotated, 'cfg']);
    const config = readFileSync(join(berthStateDir(root), 'lxc', 'cfg', 'config'), 'utf8');
    assert.match(config, /^# annotation "org\.example\/team" = "blue"$/m);
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    assert.match(config, v2 ? /^lxc\.cgroup2\.pids\.max = 50$/m : /^lxc\.cgroup\.pids\.max = 50$/m);
    await berthOk(root, ['delete', '--force', 'cfg']);
  });
});
