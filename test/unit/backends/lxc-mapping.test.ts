// The OCI → LXC mapping, one test per row of the table in docs/backends/lxc.md. What LXC does
// with these entries is checked inside real containers in test/integration/lxc-mapping.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../../src/core/errors.js';
import { runtimeConfigSchema, type RuntimeConfig } from '../../../src/core/oci/runtime-config.js';
import { decodeInitArg, encodeInitArg, fstabEscape, mapLxcResources, mapOciToLxc, renderLxcConfig, shellQuote, type LxcMappingOptions } from '../../../src/backends/lxc/lxc-mapping.js';

const OPTIONS: LxcMappingOptions = { rootfs: '/srv/b/rootfs', cgroupMode: 'hybrid', initPath: '/.berth-init', initArgs: ['--wait', '/.berth'] };

function spec(edit: (c: Record<string, any>) => void = () => {}): RuntimeConfig {
  const c: Record<string, any> = {
    ociVersion: '1.0.2',
    process: { args: ['sleep', '1'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
  };
  edit(c);
  return runtimeConfigSchema.parse(c);
}

const map = (edit?: (c: Record<string, any>) => void, options: Partial<LxcMappingOptions> = {}) => mapOciToLxc(spec(edit), { ...OPTIONS, ...options });
const values = (m: { entries: Array<{ key: string; value: string }> }, key: string): string[] => m.entries.filter((e) => e.key === key).map((e) => e.value);
const fields = (m: { degradations: Array<{ field: string }> }): string[] => m.degradations.map((d) => d.field);
const refuses = (edit: (c: Record<string, any>) => void, field: string | RegExp, options: Partial<LxcMappingOptions> = {}): void => {
  assert.throws(() => map(edit, options), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err));
    if (typeof field === 'string') assert.ok(err.message.startsWith(field), `"${err.message}" names ${field}`);
    else assert.match(err.message, field);
    return true;
  });
};

/** LXC's own split of lxc.init.cmd (on spaces, no quoting), then berth-lxc-init's decoding. */
const initArgv = (cmd: string): string[] => cmd.split(' ').filter(Boolean).map(decodeInitArg);

describe('lxc mapping', () => {
  test('root.path: a dir: rootfs', () => {
    assert.deepEqual(values(map(), 'lxc.rootfs.path'), ['dir:/srv/b/rootfs']);
    refuses(() => {}, 'root.path', { rootfs: 'rootfs' });
    refuses(() => {}, 'root.path', { rootfs: '/srv/my bundle/rootfs' });
  });

  test('root.readonly: a mount hook remounts the root read-only after the mount points are made', () => {
    assert.deepEqual(values(map(), 'lxc.hook.mount'), []);
    assert.deepEqual(values(map((c) => (c.root.readonly = true)), 'lxc.hook.mount'), ['/bin/mount -o remount,bind,ro "${LXC_ROOTFS_MOUNT}" #']);
  });

  test('mounts: bind with ro, rbind, nosuid, nodev, noexec; the mount point made for a file or a directory', () => {
    const kinds: Record<string, 'file' | 'dir'> = { '/host/file': 'file', '/host/my dir': 'dir' };
    const m = map(
      (c) =>
        (c.mounts = [
          { destination: '/etc/hosts', type: 'bind', source: '/host/file', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
          { destination: '/data/with space', source: '/host/my dir', options: ['rbind', 'rw'] },
        ]),
      { pathKind: (p) => kinds[p] },
    );
    assert.deepEqual(values(m, 'lxc.mount.entry'), [
      '/host/file etc/hosts none bind,ro,nosuid,nodev,noexec,create=file 0 0',
      '/host/my\\040dir data/with\\040space none rbind,rw,create=dir 0 0',
    ]);
    refuses((c) => (c.mounts = [{ destination: '/x', type: 'bind', source: 'relative', options: ['bind'] }]), 'mounts[0].source');
    refuses((c) => (c.mounts = [{ destination: 'x', type: 'tmpfs', source: 'tmpfs' }]), 'mounts[0].destination');
    refuses((c) => (c.mounts = [{ destination: '/x', type: 'bind', source: '/y', options: ['bind'], uidMappings: [] }]), 'mounts[0].uidMappings');
  });

  test('mounts: tmpfs with size and mode', () => {
    const m = map((c) => (c.mounts = [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=1777'] }]));
    assert.deepEqual(values(m, 'lxc.mount.entry'), ['tmpfs tmp tmpfs nosuid,size=1m,mode=1777,create=dir 0 0']);
  });

  test('mounts: a tmpfs on /dev is LXC autodev, with its size', () => {
    const m = map((c) => (c.mounts = [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] }]));
    assert.deepEqual(values(m, 'lxc.autodev'), ['1']);
    assert.deepEqual(values(m, 'lxc.autodev.tmpfs.size'), [String(65536 * 1024)]);
    assert.deepEqual(fields(m), []);
    assert.deepEqual(values(map(), 'lxc.autodev'), ['0'], 'no /dev mount: the rootfs /dev as it is');
    assert.ok(fields(map((c) => (c.mounts = [{ destination: '/dev', type: 'tmpfs', options: ['uid=5'] }]))).includes('mounts[0].options'));
  });

  test('mounts: proc, sysfs, devpts elsewhere, mqueue; devpts on /dev/pts is LXC\'s own instance (lxc.pty.max)', () => {
    const m = map(
      (c) =>
        (c.mounts = [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'ro'] },
          { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0666'] },
          { destination: '/mnt/pts', type: 'devpts', source: 'devpts', options: ['newinstance'] },
          { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nodev'] },
        ]),
    );
    assert.deepEqual(values(m, 'lxc.mount.entry'), [
      'proc proc proc create=dir 0 0',
      'sysfs sys sysfs nosuid,ro,create=dir 0 0',
      'devpts mnt/pts devpts newinstance,create=dir 0 0',
      'mqueue dev/mqueue mqueue nodev,create=dir 0 0',
    ]);
    // LXC unmounts /dev/pts and mounts its own instance (and /dev/ptmx) only when it has ptys to give.
    assert.deepEqual(values(m, 'lxc.pty.max'), ['1024']);
    assert.deepEqual(values(map((c) => (c.mounts = [])), 'lxc.pty.max'), []);
  });

  test('mounts: cgroup at /sys/fs/cgroup is lxc.mount.auto, read-only when asked', () => {
    const ro = map((c) => (c.mounts = [{ destination: '/sys/fs/cgroup', type: 'cgroup', options: ['ro', 'nosuid'] }]));
    assert.deepEqual(values(ro, 'lxc.mount.auto'), ['cgroup:ro']);
    assert.deepEqual(fields(ro), ['mounts[0]'], 'without a cgroup namespace LXC shows host paths');
    assert.deepEqual(fields(map((c) => ((c.mounts = [{ destination: '/sys/fs/cgroup', type: 'cgroup' }]), c.linux.namespaces.push({ type: 'cgroup' })))), []);
    assert.deepEqual(values(map((c) => (c.mounts = [{ destination: '/sys/fs/cgroup', type: 'cgroup2' }])), 'lxc.mount.auto'), ['cgroup:rw']);
    refuses((c) => (c.mounts = [{ destination: '/cg', type: 'cgroup' }]), 'mounts[0].destination');
  });

  test('namespaces: new ones are cloned; no network namespace shares the host\'s, a new one is empty', () => {
    const m = map((c) => (c.linux.namespaces = [{ type: 'mount' }, { type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'cgroup' }]));
    assert.deepEqual(values(m, 'lxc.namespace.clone'), ['mnt pid net ipc uts cgroup']);
    assert.deepEqual(values(m, 'lxc.net.0.type'), ['empty']);
    assert.deepEqual(values(map(), 'lxc.net.0.type'), ['none']);
    refuses((c) => (c.linux.namespaces = [{ type: 'pid' }]), 'linux.namespaces');
    refuses((c) => c.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[2]');
    // An unknown type never reaches the mapping: the runtime's schema refuses it.
    assert.equal(runtimeConfigSchema.safeParse({ ...spec(), linux: { namespaces: [{ type: 'bogus' }] } }).success, false);
  });

  test('namespaces: joined through the process that holds it (/proc/PID/ns/TYPE) or a namespace file', () => {
    const m = map((c) => c.linux.namespaces.push({ type: 'network', path: '/proc/4242/ns/net' }, { type: 'ipc', path: '/proc/7/ns/ipc' }));
    assert.deepEqual(values(m, 'lxc.namespace.share.net'), ['4242']);
    assert.deepEqual(values(m, 'lxc.namespace.share.ipc'), ['7']);
    assert.deepEqual(values(m, 'lxc.namespace.clone'), ['mnt pid']);
    assert.deepEqual(values(m, 'lxc.net.0.type'), [], 'a joined network namespace gets no network config');
    // A file (Podman's /run/netns/NAME): LXC opens an absolute path itself.
    const file = map((c) => c.linux.namespaces.push({ type: 'network', path: '/run/netns/blue' }, { type: 'uts', path: '/run/uts/x' }));
    assert.deepEqual(values(file, 'lxc.namespace.share.net'), ['/run/netns/blue']);
    assert.deepEqual(values(file, 'lxc.namespace.share.uts'), ['/run/uts/x']);
    assert.deepEqual(values(file, 'lxc.net.0.type'), []);
    refuses((c) => c.linux.namespaces.push({ type: 'ipc', path: '/proc/7/ns/net' }), /^linux\.namespaces\[2\]\.path: .* not a ipc namespace/);
    refuses((c) => c.linux.namespaces.push({ type: 'network', path: 'netns/blue' }), /^linux\.namespaces\[2\]\.path: a namespace path must be absolute/);
    refuses((c) => c.linux.namespaces.push({ type: 'network', path: '/run/netns/../x' }), 'linux.namespaces[2].path');
    for (const type of ['cgroup', 'time']) refuses((c) => c.linux.namespaces.push({ type, path: `/proc/7/ns/${type}` }), new RegExp(`^linux\\.namespaces\\[2\\]\\.path: LXC 5\\.0 cannot join a ${type} namespace`));
    refuses((c) => (c.linux.namespaces[0] = { type: 'mount', path: '/proc/7/ns/mnt' }), /^linux\.namespaces\[0\]\.path: LXC cannot join another mount namespace/);
  });

  test('network devices: phys interfaces moved in', () => {
    const m = map((c) => {
      c.linux.namespaces.push({ type: 'network' });
      c.linux.netDevices = { veth9: { name: 'eth0' } };
    });
    assert.deepEqual(m.entries.filter((e) => e.key.startsWith('lxc.net.')).map((e) => `${e.key}=${e.value}`), ['lxc.net.0.type=phys', 'lxc.net.0.link=veth9', 'lxc.net.0.name=eth0', 'lxc.net.0.flags=up']);
  });

  test('uid/gid maps: lxc.idmap, with a user namespace only', () => {
    const m = map((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    assert.deepEqual(values(m, 'lxc.idmap'), ['u 0 100000 65536', 'g 0 100000 65536']);
    refuses((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]), 'linux.uidMappings');
  });

  test('hostname: lxc.uts.name, with a uts namespace only', () => {
    assert.deepEqual(values(map((c) => (c.hostname = 'web-1', c.linux.namespaces.push({ type: 'uts' }))), 'lxc.uts.name'), ['web-1']);
    refuses((c) => (c.hostname = 'web-1'), 'hostname');
  });

  test('process.args: every argument survives LXC\'s split on spaces (spaces, quotes, $, backslashes, empty, newline, UTF-8)', () => {
    const args = ['sh', '-c', 'echo "$HOME" \'single\' `tick` \\back\\slash %41 $((1+2))', '', 'two  spaces', 'tab\there', 'line\nbreak', 'naïve ☃', '"quoted"', "'"];
    const m = map((c) => (c.process.args = args));
    const [cmd] = values(m, 'lxc.init.cmd');
    assert.ok(!/[\s"']/.test(cmd!.replace(/ /g, '')), 'no whitespace or quote LXC could trip on');
    assert.deepEqual(initArgv(cmd!), ['/.berth-init', '--wait', '/.berth', '--unset', 'container', '--', ...args]);
    for (const a of args) assert.equal(decodeInitArg(encodeInitArg(a)), a);
  });

  test('process.env: lxc.environment; LXC\'s own container= and PATH are taken out unless set', () => {
    const m = map((c) => (c.process.env = ['PATH=/bin', 'A=b c', 'EMPTY=', 'Q="x"']));
    assert.deepEqual(values(m, 'lxc.environment'), ['PATH=/bin', 'A=b c', 'EMPTY=', 'Q="x"']);
    assert.deepEqual(initArgv(values(m, 'lxc.init.cmd')[0]!).slice(3, 6), ['--unset', 'container', '--']);
    assert.deepEqual(initArgv(values(map((c) => (c.process.env = ['container=x'])), 'lxc.init.cmd')[0]!).slice(3, 6), ['--unset', 'PATH', '--']);
    refuses((c) => (c.process.env = ['HOME']), 'process.env[0]');
    refuses((c) => (c.process.env = ['A=1', 'B=trailing ']), 'process.env[1]');
    refuses((c) => (c.process.env = ['A=two\nlines']), 'process.env[0]');
  });

  test('process.cwd: lxc.init.cwd', () => {
    assert.deepEqual(values(map((c) => (c.process.cwd = '/srv/my app')), 'lxc.init.cwd'), ['/srv/my app']);
  });

  test('process.user: uid, gid and additional gids', () => {
    const m = map((c) => (c.process.user = { uid: 1000, gid: 100, additionalGids: [5, 27] }));
    assert.deepEqual([values(m, 'lxc.init.uid'), values(m, 'lxc.init.gid'), values(m, 'lxc.init.groups')], [['1000'], ['100'], ['5,27']]);
    assert.ok(fields(map((c) => (c.process.user = { uid: 0, gid: 0, umask: 18 }))).includes('process.user.umask'));
  });

  test('process.rlimits: lxc.prlimit, unlimited for the all-ones value', () => {
    const m = map((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }]));
    assert.deepEqual(values(m, 'lxc.prlimit.nofile'), ['512:1024']);
    assert.deepEqual(values(m, 'lxc.prlimit.core'), ['unlimited:unlimited']);
    refuses((c) => (c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]), 'process.rlimits[0].type');
  });

  test('process.noNewPrivileges and oomScoreAdj', () => {
    const m = map((c) => ((c.process.noNewPrivileges = true), (c.process.oomScoreAdj = 300)));
    assert.deepEqual([values(m, 'lxc.no_new_privs'), values(m, 'lxc.proc.oom_score_adj')], [['1'], ['300']]);
    refuses((c) => (c.process.oomScoreAdj = 5000), 'process.oomScoreAdj');
  });

  test('process.capabilities: the bounding set is lxc.cap.keep; none kept without it', () => {
    const caps = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const m = map((c) => (c.process.capabilities = { bounding: caps, effective: caps, permitted: caps }));
    assert.deepEqual(values(m, 'lxc.cap.keep'), ['kill net_bind_service']);
    assert.deepEqual(fields(m), []);
    assert.deepEqual(values(map(), 'lxc.cap.keep'), ['none']);
    const partial = map((c) => (c.process.capabilities = { bounding: caps, effective: ['CAP_KILL'], ambient: ['CAP_KILL'] }));
    assert.deepEqual(fields(partial).sort(), ['process.capabilities.ambient', 'process.capabilities.effective']);
    refuses((c) => (c.process.capabilities = { bounding: ['kill'] }), 'process.capabilities.bounding[0]');
  });

  test('cgroup limits on v1 and hybrid hosts: lxc.cgroup.* files', () => {
    const resources = { memory: { limit: 64 << 20, swap: 128 << 20 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' }, pids: { limit: 64 } };
    const m = map((c) => (c.linux.resources = resources));
    const cg = m.entries.filter((e) => e.key.startsWith('lxc.cgroup.')).map((e) => `${e.key}=${e.value}`);
    assert.deepEqual(cg, [
      `lxc.cgroup.memory.limit_in_bytes=${64 << 20}`,
      `lxc.cgroup.memory.memsw.limit_in_bytes=${128 << 20}`,
      'lxc.cgroup.cpu.shares=512',
      'lxc.cgroup.cpu.cfs_period_us=100000',
      'lxc.cgroup.cpu.cfs_quota_us=50000',
      'lxc.cgroup.cpuset.cpus=0',
      'lxc.cgroup.cpuset.mems=0',
      'lxc.cgroup.pids.max=64',
    ]);
    assert.deepEqual(map((c) => (c.linux.resources = resources), { cgroupMode: 'v1' }).entries, m.entries);
  });

  test('cgroup limits on cgroup v2 hosts (Proxmox): lxc.cgroup2.* files, swap without memory, shares as weight', () => {
    const m = map((c) => (c.linux.resources = { memory: { limit: 64 << 20, swap: 128 << 20 }, cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1' }, pids: { limit: -1 } }), { cgroupMode: 'v2' });
    const cg = m.entries.filter((e) => e.key.startsWith('lxc.cgroup')).map((e) => `${e.key}=${e.value}`);
    assert.deepEqual(cg, [`lxc.cgroup2.memory.max=${64 << 20}`, `lxc.cgroup2.memory.swap.max=${64 << 20}`, 'lxc.cgroup2.cpu.weight=39', 'lxc.cgroup2.cpu.max=50000 100000', 'lxc.cgroup2.cpuset.cpus=0-1', 'lxc.cgroup2.pids.max=max']);
    assert.ok(fields(map((c) => (c.linux.resources = { memory: { swappiness: 10 } }), { cgroupMode: 'v2' })).includes('linux.resources.memory.swappiness'));
    refuses((c) => (c.linux.resources = { unified: { 'memory.high': '1' } }), 'linux.resources.unified.memory.high');
    assert.deepEqual(values(map((c) => (c.linux.resources = { unified: { 'memory.high': '1000' } }), { cgroupMode: 'v2' }), 'lxc.cgroup2.memory.high'), ['1000']);
  });

  test('0 means unset, as runc reads it (Docker sends blockIO.weight 0 and cpu.shares 0)', () => {
    const zeros = { memory: { limit: 0, reservation: 0, swap: 0 }, cpu: { shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0 }, pids: { limit: 0 }, blockIO: { weight: 0 } };
    for (const mode of ['hybrid', 'v2'] as const) assert.deepEqual(mapLxcResources(zeros, mode).entries, [], `nothing is written on ${mode}`);
  });

  test('berth update: linux.resources alone', () => {
    assert.deepEqual(mapLxcResources({ pids: { limit: 42 } }, 'hybrid').entries, [{ key: 'lxc.cgroup.pids.max', value: '42' }]);
  });

  test('linux.cgroupsPath: LXC\'s container, monitor and pivot cgroups', () => {
    const m = map((c) => (c.linux.cgroupsPath = '/tenants/a'));
    assert.deepEqual([values(m, 'lxc.cgroup.dir.container'), values(m, 'lxc.cgroup.dir.monitor'), values(m, 'lxc.cgroup.dir.monitor.pivot')], [['tenants/a'], ['tenants/a.monitor'], ['tenants/a.pivot']]);
    refuses((c) => (c.linux.cgroupsPath = 'system.slice:berth:x'), 'linux.cgroupsPath');
  });

  test('sysctl: written by a mount hook into /proc/sys, before the container\'s /proc is read-only', () => {
    const m = map((c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.eth0/100.forwarding': "it's" }));
    assert.deepEqual(values(m, 'lxc.hook.mount').filter((v) => v.startsWith('printf')), [
      "printf '%s' '1' > '/proc/sys/net/ipv4/ip_forward' #",
      "printf '%s' 'it'\\''s' > '/proc/sys/net/ipv4/conf/eth0.100/forwarding' #",
    ]);
    assert.deepEqual(values(m, 'lxc.sysctl.net.ipv4.ip_forward'), []);
    refuses((c) => (c.linux.sysctl = { 'net..x': '1' }), 'linux.sysctl');
    refuses((c) => (c.linux.sysctl = { 'net.//.x': '1' }), 'linux.sysctl');
    refuses((c) => (c.linux.sysctl = { 'a b': '1' }), 'linux.sysctl');
  });

  test('masked paths: /dev/null over files, an empty read-only tmpfs over directories, nothing where nothing is', () => {
    const kinds: Record<string, 'file' | 'dir'> = { '/proc/kcore': 'file', '/sys/firmware': 'dir', '/srv/b/rootfs/etc/secret': 'file' };
    const m = map((c) => (c.linux.maskedPaths = ['/proc/kcore', '/sys/firmware', '/etc/secret', '/proc/nothing']), { pathKind: (p) => kinds[p] });
    assert.deepEqual(values(m, 'lxc.mount.entry'), ['/dev/null proc/kcore none bind,ro,optional 0 0', 'tmpfs sys/firmware tmpfs ro,optional 0 0', '/dev/null etc/secret none bind,ro,optional 0 0']);
  });

  test('readonly paths: read-only bind mounts over themselves', () => {
    const m = map((c) => (c.linux.readonlyPaths = ['/proc/sys', '/etc/conf']));
    assert.deepEqual(values(m, 'lxc.mount.entry'), ['/proc/sys proc/sys none bind,ro,optional 0 0', '/srv/b/rootfs/etc/conf etc/conf none bind,ro,optional 0 0']);
    refuses((c) => (c.linux.readonlyPaths = ['/proc/../etc']), 'linux.readonlyPaths[0]');
  });

  test('devices: made by a host hook with the mode and owner asked for', () => {
    const m = map((c) => {
      c.mounts = [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }];
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 5 }];
    });
    assert.deepEqual(values(m, 'lxc.hook.autodev'), [
      `mkdir -p "\${LXC_ROOTFS_MOUNT}"'/dev' && rm -f "\${LXC_ROOTFS_MOUNT}"'/dev/fuse' && mknod -m 600 "\${LXC_ROOTFS_MOUNT}"'/dev/fuse' c 10 229 && chown 0:5 "\${LXC_ROOTFS_MOUNT}"'/dev/fuse' #`,
    ]);
    // A device type outside c, b, u, p never reaches the mapping: the runtime's schema refuses it.
    assert.equal(runtimeConfigSchema.safeParse({ ...spec(), linux: { devices: [{ path: '/dev/x', type: 'q' }] } }).success, false);
  });

  test('device cgroup rules: allow and deny in order; runc\'s defaults after a deny-all', () => {
    const m = map((c) => (c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }] }));
    assert.deepEqual(values(m, 'lxc.cgroup.devices.deny'), ['a']);
    const allowed = values(m, 'lxc.cgroup.devices.allow');
    assert.equal(allowed[0], 'c 10:229 rw');
    assert.ok(allowed.includes('c 1:3 rwm') && allowed.includes('c 136:* rwm'), allowed.join('; '));
  });

  test('hooks: each kind to its LXC hook, words quoted for the shell, LXC\'s appended words commented out', () => {
    const m = map(
      (c) =>
        (c.hooks = {
          createRuntime: [{ path: '/bin/sleep', args: ['sleep', '1'] }],
          prestart: [{ path: '/usr/bin/logger', args: ['logger', "it's $HOME"], env: ['A=1'], timeout: 5 }],
          createContainer: [{ path: '/bin/true' }],
          startContainer: [{ path: '/bin/true' }],
          poststart: [{ path: '/bin/true' }],
          poststop: [{ path: '/bin/echo', args: ['echo', 'bye'] }],
        }),
    );
    // runtime.md's order, whatever the order of the keys: prestart, then createRuntime.
    // args[0] is the hook's argv[0]: bash's exec -a sets it (LXC's /bin/sh cannot).
    const argv0 = (a: string): string => `/bin/bash -c 'exec -a "$0" "$@"' '${a}'`;
    assert.deepEqual(values(m, 'lxc.hook.start-host'), [`env -i 'A=1' timeout 5 ${argv0('logger')} '/usr/bin/logger' 'it'\\''s $HOME' #`, `${argv0('sleep')} '/bin/sleep' '1' #`]);
    assert.deepEqual(values(m, 'lxc.hook.mount'), ["'/bin/true' #"]);
    assert.deepEqual(values(m, 'lxc.hook.start'), ["'/bin/true' #"]);
    assert.deepEqual(values(m, 'lxc.hook.post-stop'), [`${argv0('echo')} '/bin/echo' 'bye' #`]);
    assert.ok(fields(m).includes('hooks.poststart'));
    refuses((c) => (c.hooks = { bogus: [{ path: '/x' }] }), 'hooks.bogus');
  });

  test('hooks with the lxc backend\'s hookState: the state on stdin; startContainer, poststart, poststop left to the backend', () => {
    const hookState = { ociVersion: '1.0.2', id: 'c1', bundle: "/srv/it's b", annotations: { a: 'b' } };
    const m = map(
      (c) =>
        (c.hooks = {
          prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'cat; exit 3'] }],
          createContainer: [{ path: '/bin/cat' }],
          startContainer: [{ path: '/bin/true' }],
          poststart: [{ path: '/bin/true' }],
          poststop: [{ path: '/bin/true' }],
        }),
      { hookState },
    );
    assert.deepEqual(values(m, 'lxc.hook.start'), []);
    assert.deepEqual(values(m, 'lxc.hook.post-stop'), []);
    assert.ok(!fields(m).some((f) => f.startsWith('hooks.')), `no hook degradation: ${fields(m).join(', ')}`);
    // Run as LXC runs it: `exec VALUE NAME SECTION TYPE` through /bin/sh.
    const run = (value: string, env: NodeJS.ProcessEnv): { out: string; code: number } => {
      try {
        return { out: execFileSync('/bin/sh', ['-c', `exec ${value} c1 lxc start-host`], { env, encoding: 'utf8' }), code: 0 };
      } catch (err) {
        const e = err as { stdout: string; status: number };
        return { out: e.stdout, code: e.status };
      }
    };
    const [prestart] = values(m, 'lxc.hook.start-host');
    const withPid = run(prestart!, { LXC_PID: '42' });
    assert.equal(withPid.code, 3, 'the hook\'s exit status is the command\'s');
    assert.deepEqual(JSON.parse(withPid.out), { ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 42, bundle: "/srv/it's b", annotations: { a: 'b' } });
    const [mount] = values(m, 'lxc.hook.mount');
    assert.deepEqual(JSON.parse(run(mount!, {}).out), { ociVersion: '1.0.2', id: 'c1', status: 'creating', bundle: "/srv/it's b", annotations: { a: 'b' } }, 'no pid where LXC gives none');
  });

  test('annotations: kept as they are', () => {
    assert.deepEqual(map((c) => (c.annotations = { 'org.example/a': 'b c' })).annotations, { 'org.example/a': 'b c' });
  });

  test('seccomp and other fields without an LXC key: degradations, never dropped silently', () => {
    const m = map((c) => ((c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }), (c.process.terminal = true), (c.domainname = 'x')));
    assert.deepEqual(fields(m).sort(), ['domainname', 'linux.seccomp', 'process.terminal']);
  });

  test('process.terminal with the init opening the terminal (a console socket): no degradation; consoleSize is --console-size', () => {
    const m = map((c) => ((c.process.terminal = true), (c.process.consoleSize = { height: 40, width: 120 })), { terminal: true, initArgs: ['--console', '6'] });
    assert.deepEqual(fields(m), []);
    const argv = initArgv(values(m, 'lxc.init.cmd')[0]!);
    assert.deepEqual(argv.slice(0, 5), ['/.berth-init', '--console', '6', '--console-size', '40x120']);
    assert.deepEqual(fields(map((c) => ((c.process.terminal = true), (c.process.consoleSize = { height: 1, width: 1 })))).sort(), ['process.consoleSize', 'process.terminal']);
  });

  test('security defaults: AppArmor unconfined unless a profile is named', () => {
    assert.deepEqual(values(map(), 'lxc.apparmor.profile'), ['unconfined']);
    assert.deepEqual(values(map((c) => (c.process.apparmorProfile = 'berth-default')), 'lxc.apparmor.profile'), ['berth-default']);
  });

  test('renderLxcConfig: one line per entry; a value LXC would unquote gets one more pair of quotes', () => {
    assert.equal(renderLxcConfig([{ key: 'lxc.environment', value: 'A=1' }, { key: 'lxc.environment', value: '"x"' }, { key: 'lxc.uts.name', value: "'a'" }]), 'lxc.environment = A=1\nlxc.environment = ""x""\nlxc.uts.name = \'\'a\'\'\n');
  });

  test('quoting helpers', () => {
    assert.equal(shellQuote("a'b"), `'a'\\''b'`);
    assert.equal(fstabEscape('a b\\c\td'), 'a\\040b\\134c\\011d');
  });
});
