// One test per row of the OCI → Proxmox table in docs/backends/proxmox.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootOnlySettings, mapOciToPve, type PveMappingInput } from '../../../../src/backends/pve/pve-mapping.js';
import { versionAtLeast } from '../../../../src/backends/pve/proxmox.js';
import { defaultRuntimeConfig } from '../../../../src/core/oci/default-spec.js';
import type { RuntimeConfig } from '../../../../src/core/oci/runtime-config.js';
import { loadMapOciToLxc } from '../../../../src/backends/pve/lxc-mapping-link.js';
import { forVmid, LEFT_TO_PROXMOX, PVE_ROOTFS } from '../../../../src/backends/pve/pve-carry.js';

const mapOciToLxc = await loadMapOciToLxc();

/** The default spec without the settings that become raw keys (each has its own test below). */
function spec(edit?: (c: Record<string, any>) => void): RuntimeConfig {
  const c = defaultRuntimeConfig() as Record<string, any>;
  c.process.args = ['/app/server', '--port', '8080', 'a b'];
  c.process.env = ['PATH=/bin', 'MODE=prod'];
  delete c.process.capabilities;
  delete c.process.rlimits;
  delete c.process.noNewPrivileges;
  delete c.linux.maskedPaths;
  delete c.linux.readonlyPaths;
  delete c.linux.resources;
  c.root.readonly = false;
  edit?.(c);
  return c as RuntimeConfig;
}

function map(edit?: (c: Record<string, any>) => void, over: Partial<PveMappingInput> = {}) {
  return mapOciToPve({ id: 'web-1', spec: spec(edit), bridge: 'vmbr0', unprivileged: true, hasOciOptions: true, callerIsRoot: true, mapOciToLxc, ...over });
}

describe('OCI → Proxmox mapping', () => {
  test('hostname: the spec\'s, else one made from the id; an invalid one is refused', () => {
    assert.equal(map((c) => (c.hostname = 'api.example')).options.hostname, 'api.example');
    assert.equal(map((c) => delete c.hostname).options.hostname, 'web-1');
    assert.equal(mapOciToPve({ id: 'Under_Score.ID', spec: spec((c) => delete c.hostname), bridge: 'vmbr0', unprivileged: true, hasOciOptions: true, callerIsRoot: true, mapOciToLxc }).options.hostname, 'under-score-id');
    assert.throws(() => map((c) => (c.hostname = 'bad_host!')), { code: 'BERTH_ERR_INVALID_BUNDLE', message: /hostname "bad_host!"/ });
  });

  test('memory limit → memory (MiB, rounded up); memory+swap → swap', () => {
    const m = map((c) => (c.linux.resources = { memory: { limit: 300 * 1024 * 1024 + 1, swap: 812 * 1024 * 1024 } }));
    assert.equal(m.options.memory, '301');
    assert.equal(m.options.swap, '512');
    const noSwap = map((c) => (c.linux.resources = { memory: { limit: 64 * 1024 * 1024 } }));
    assert.deepEqual([noSwap.options.memory, noSwap.options.swap], ['64', undefined]);
  });

  test('cpu quota/period → cpulimit', () => {
    assert.equal(map((c) => (c.linux.resources = { cpu: { quota: 150_000, period: 100_000 } })).options.cpulimit, '1.5');
    assert.equal(map((c) => (c.linux.resources = { cpu: { quota: 25_000 } })).options.cpulimit, '0.25', 'period defaults to 100 ms');
  });

  test('cpu shares → cpuunits (the cgroup v2 weight: 1024 → 39, 2 → 1, 262144 → 10000)', () => {
    assert.equal(map((c) => (c.linux.resources = { cpu: { shares: 1024 } })).options.cpuunits, '39');
    assert.equal(map((c) => (c.linux.resources = { cpu: { shares: 2 } })).options.cpuunits, '1');
    assert.equal(map((c) => (c.linux.resources = { cpu: { shares: 262_144 } })).options.cpuunits, '10000');
  });

  test('cpuset → cores (the number of CPUs listed)', () => {
    assert.equal(map((c) => (c.linux.resources = { cpu: { cpus: '0-3,6' } })).options.cores, '5');
    assert.throws(() => map((c) => (c.linux.resources = { cpu: { cpus: 'all' } })), { code: 'BERTH_ERR_INVALID_BUNDLE' });
  });

  test('process args/env on Proxmox VE ≥ 9.1 → entrypoint (shell-quoted) and env (NUL-separated)', () => {
    const m = map();
    assert.equal(m.options.entrypoint, "/app/server --port 8080 'a b'");
    assert.equal(m.options.env, 'PATH=/bin\0MODE=prod');
    assert.deepEqual(m.lxc, []);
    assert.deepEqual(m.rootOnly, ['features nesting=1,keyctl=1 (only nesting alone is open to API tokens)'], 'keyctl: root@pam only');
    assert.deepEqual(map(undefined, { callerIsRoot: false }).rootOnly, [], 'through an API token: nesting alone, nothing root-only');
  });

  test('process args/env before 9.1 → raw lxc.init.cmd and lxc.environment from the LXC mapping (root only)', () => {
    const m = map((c) => (c.process.args = ['/app/server', '--port', '8080']), { hasOciOptions: false });
    assert.equal(m.options.entrypoint, undefined);
    assert.deepEqual(m.lxc, [
      { key: 'lxc.init.cmd', value: '/app/server --port 8080' },
      { key: 'lxc.environment', value: 'PATH=/bin' },
      { key: 'lxc.environment', value: 'MODE=prod' },
    ]);
    assert.deepEqual(m.rootOnly.filter((r) => r.startsWith('lxc.')), ['lxc.init.cmd', 'lxc.environment']);
    // LXC splits lxc.init.cmd on blanks without quoting: an argument with a blank is refused, named.
    assert.throws(() => map(undefined, { hasOciOptions: false }), { code: 'BERTH_ERR_UNSUPPORTED', message: /process\.args\[3\] "a b" cannot be passed through lxc\.init\.cmd/ });
    assert.throws(() => map(undefined, { hasOciOptions: false, mapOciToLxc: () => ({ entries: [], degradations: [] }) }), { code: 'BERTH_ERR_UNSUPPORTED' });
  });

  test('process cwd and user → raw lxc.init.cwd / lxc.init.uid / lxc.init.gid', () => {
    const m = map((c) => {
      c.process.cwd = '/srv';
      c.process.user = { uid: 1000, gid: 100 };
    });
    assert.deepEqual(m.lxc, [
      { key: 'lxc.init.cwd', value: '/srv' },
      { key: 'lxc.init.uid', value: '1000' },
      { key: 'lxc.init.gid', value: '100' },
    ]);
    assert.deepEqual(map().lxc, [], 'cwd / and user 0:0 need nothing');
  });

  test('mounts: bind → mpN (root only, ro kept); tmpfs → raw lxc.mount.entry; the standard ones are LXC\'s own', () => {
    const m = map((c) =>
      c.mounts.push(
        { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
        { destination: '/cache', source: '/var/cache/x', options: ['bind'] },
        { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] },
      ),
    );
    assert.equal(m.options.mp0, '/srv/data,mp=/data,ro=1');
    assert.equal(m.options.mp1, '/var/cache/x,mp=/cache');
    assert.deepEqual(m.lxc, [{ key: 'lxc.mount.entry', value: 'tmpfs run tmpfs nosuid,create=dir 0 0' }]);
    assert.deepEqual(m.rootOnly.filter((r) => !r.startsWith('features')), ['mp0 (bind mount of /srv/data)', 'mp1 (bind mount of /var/cache/x)', 'lxc.mount.entry']);
    assert.equal(Object.keys(map().options).filter((k) => k.startsWith('mp')).length, 0, '/proc, /dev, /sys … need no mount point');
  });

  test('network → net0: dhcp on the configured bridge, or static/bridge/name from annotations', () => {
    assert.equal(map().options.net0, 'name=eth0,bridge=vmbr0,ip=dhcp');
    const m = map((c) => (c.annotations = { 'run.berth.pve.net0.ip': '10.0.0.5/24', 'run.berth.pve.net0.gw': '10.0.0.1', 'run.berth.pve.net0.bridge': 'vmbr1', 'run.berth.pve.net0.name': 'lan0' }));
    assert.equal(m.options.net0, 'name=lan0,bridge=vmbr1,ip=10.0.0.5/24,gw=10.0.0.1');
    assert.throws(() => map((c) => (c.annotations = { 'run.berth.pve.net0.ip': '10.0.0.5' })), { code: 'BERTH_ERR_INVALID_BUNDLE', message: /IPv4 address with prefix/ });
    assert.throws(() => map((c) => (c.annotations = { 'run.berth.pve.net0.gw': '10.0.0.1' })), { message: /needs a static/ });
  });

  test('user namespace → unprivileged with nesting and keyctl; privileged only when both spec and config say so', () => {
    const userns = map((c) => c.linux.namespaces.push({ type: 'user' }), { unprivileged: false });
    assert.deepEqual([userns.unprivileged, userns.options.features], [true, 'nesting=1,keyctl=1']);
    // Proxmox lets an API token set nesting alone (check_ct_modify_config_perm): no keyctl then.
    const token = map((c) => c.linux.namespaces.push({ type: 'user' }), { unprivileged: false, callerIsRoot: false });
    assert.deepEqual([token.unprivileged, token.options.features, token.rootOnly], [true, 'nesting=1', []]);
    const priv = map(undefined, { unprivileged: false });
    assert.deepEqual([priv.unprivileged, priv.options.features], [false, undefined]);
  });

  test('annotations and the OCI id → description; tags mark it as berth\'s', () => {
    const m = map((c) => (c.annotations = { 'org.example/b': 'two', 'org.example/a': 'one\nline' }));
    assert.equal(m.options.description, 'berth container web-1\norg.example/a: one line\norg.example/b: two');
    assert.equal(m.options.tags, 'berth');
    const rooted = map(undefined, { rootId: '0123456789' });
    assert.match(rooted.options.description!, /^berth container web-1\nberth root: 0123456789$/);
    assert.equal(rooted.options.tags, 'berth;berth-root-0123456789', 'the state root is a tag: two roots on one cluster are told apart');
  });

  test('the user\'s settings beat an image\'s defaults', () => {
    const m = map((c) => (c.linux.resources = { memory: { limit: 128 * 1024 * 1024 } }), { imageDefaults: { entrypoint: '/image/default', env: 'FROM_IMAGE=1', memory: '2048', onboot: '1' } });
    assert.equal(m.options.entrypoint, "/app/server --port 8080 'a b'");
    assert.equal(m.options.env, 'PATH=/bin\0MODE=prod');
    assert.equal(m.options.memory, '128');
    assert.equal(m.options.onboot, '1', 'what the user did not set still comes from the image');
  });

  const keys = (m: ReturnType<typeof map>, pred: (k: string) => boolean) => m.lxc.filter((e) => pred(e.key));

  test('process.capabilities → lxc.cap.keep after an empty lxc.cap.drop (clears Proxmox\'s drops); none given: Proxmox\'s set', () => {
    const m = map((c) => (c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'], ambient: ['CAP_KILL'] }));
    assert.deepEqual(keys(m, (k) => k.startsWith('lxc.cap.')), [{ key: 'lxc.cap.drop', value: '' }, { key: 'lxc.cap.keep', value: 'chown kill' }]);
    assert.ok(m.rootOnly.includes('lxc.cap.keep'));
    assert.ok(m.degradations.some((d) => d.field === 'process.capabilities.ambient'), 'the ambient set is a degradation, not dropped silently');
    assert.deepEqual(keys(map(), (k) => k.startsWith('lxc.cap.')), []);
  });

  test('process.rlimits → lxc.prlimit.*; oomScoreAdj → lxc.proc.oom_score_adj; noNewPrivileges → lxc.no_new_privs; additionalGids → lxc.init.groups', () => {
    const m = map((c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }];
      c.process.oomScoreAdj = 500;
      c.process.noNewPrivileges = true;
      c.process.user = { uid: 0, gid: 0, additionalGids: [10, 20] };
    });
    assert.deepEqual(m.lxc, [
      { key: 'lxc.init.groups', value: '10,20' },
      { key: 'lxc.prlimit.nofile', value: '1024:4096' },
      { key: 'lxc.prlimit.core', value: '0:0' },
      { key: 'lxc.no_new_privs', value: '1' },
      { key: 'lxc.proc.oom_score_adj', value: '500' },
    ]);
    assert.deepEqual(m.rootOnly.filter((r) => r.startsWith('lxc.')), ['lxc.init.groups', 'lxc.prlimit.nofile', 'lxc.prlimit.core', 'lxc.no_new_privs', 'lxc.proc.oom_score_adj']);
  });

  test('apparmor/selinux: the spec\'s label as a raw key; without one Proxmox\'s profile stays (not the LXC mapping\'s unconfined)', () => {
    assert.deepEqual(keys(map((c) => (c.process.apparmorProfile = 'berth-default')), (k) => k.startsWith('lxc.apparmor')), [{ key: 'lxc.apparmor.profile', value: 'berth-default' }]);
    assert.deepEqual(keys(map(), (k) => k.startsWith('lxc.apparmor')), []);
    assert.deepEqual(keys(map((c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0')), (k) => k.startsWith('lxc.selinux')), [{ key: 'lxc.selinux.context', value: 'system_u:system_r:container_t:s0' }]);
  });

  test('linux.seccomp → lxc.seccomp.profile at the backend\'s path, with the policy text to write there', () => {
    const m = map((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }), { seccompProfile: '/root/@berth/pve/seccomp/web-1.policy' });
    assert.deepEqual(keys(m, (k) => k.startsWith('lxc.seccomp')), [{ key: 'lxc.seccomp.profile', value: '/root/@berth/pve/seccomp/web-1.policy' }]);
    assert.match(m.seccompPolicy!, /^2\n/);
    assert.match(m.seccompPolicy!, /mkdir errno/);
    assert.ok(m.rootOnly.includes('lxc.seccomp.profile'), 'through an API token the policy cannot reach the node: refused');
    assert.equal(map().seccompPolicy, undefined);
  });

  test('linux.resources without a Proxmox option → cgroup v2 raw keys (pids, io.weight, memory.low, devices); memory/cpu stay options', () => {
    const m = map((c) => (c.linux.resources = { memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 }, cpu: { shares: 1024, quota: 50_000 }, pids: { limit: 64 }, blockIO: { weight: 300 }, devices: [{ allow: false, access: 'rwm' }] }));
    const cg = keys(m, (k) => k.startsWith('lxc.cgroup2.'));
    assert.deepEqual(cg.filter((e) => !e.key.includes('devices')), [
      { key: 'lxc.cgroup2.memory.low', value: String(32 * 1024 * 1024) },
      { key: 'lxc.cgroup2.pids.max', value: '64' },
      { key: 'lxc.cgroup2.io.weight', value: '300' },
    ]);
    assert.deepEqual(cg.filter((e) => e.key.includes('devices')).slice(0, 2), [{ key: 'lxc.cgroup2.devices.deny', value: 'a' }, { key: 'lxc.cgroup2.devices.allow', value: 'c 1:3 rwm' }]);
    assert.deepEqual([m.options.memory, m.options.cpuunits, m.options.cpulimit], ['64', '39', '0.5']);
  });

  test('hugetlb and other limits LXC has no key for are degradations (never silent)', () => {
    const m = map((c) => (c.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 1024 * 1024 * 1024 }] }));
    assert.ok(m.degradations.some((d) => d.field === 'linux.resources.hugepageLimits'), JSON.stringify(m.degradations));
  });

  test('cpus: cores from the count; as root the exact CPUs as raw cpuset.cpus, through a token a degradation', () => {
    const root = map((c) => (c.linux.resources = { cpu: { cpus: '2-3' } }));
    assert.deepEqual([root.options.cores, keys(root, (k) => k.includes('cpuset'))], ['2', [{ key: 'lxc.cgroup2.cpuset.cpus', value: '2-3' }]]);
    const token = map((c) => (c.linux.resources = { cpu: { cpus: '2-3' } }), { callerIsRoot: false });
    assert.deepEqual([token.options.cores, token.lxc], ['2', []]);
    assert.ok(token.degradations.some((d) => d.field === 'linux.resources.cpu.cpus'));
  });

  test('linux.devices → devN (mode, uid, gid; root only) when the node has the same device; else the mapping\'s mknod hook', () => {
    const devs = (c: Record<string, any>) => (c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o660, uid: 0, gid: 5 }, { path: '/dev/fifo', type: 'p' }]);
    const m = map(devs, { hostDevice: (p) => (p === '/dev/fuse' ? { type: 'c', major: 10, minor: 229 } : undefined) });
    assert.equal(m.options.dev0, '/dev/fuse,mode=0660,uid=0,gid=5');
    assert.equal(m.options.dev1, undefined);
    const hooks = keys(m, (k) => k.startsWith('lxc.hook.'));
    assert.equal(hooks.length, 1, 'the FIFO by the hook, /dev/fuse by devN');
    assert.match(hooks[0]!.value, /'\/dev\/fifo' p/);
    assert.ok(m.rootOnly.includes('dev0 (device passthrough)'));
    // The node's /dev/fuse is another device, or Proxmox is older than 8.1: the hook makes the bundle's.
    const other = map(devs, { hostDevice: () => ({ type: 'c', major: 1, minor: 1 }) });
    assert.equal(other.options.dev0, undefined);
    assert.equal(keys(other, (k) => k.startsWith('lxc.hook.')).length, 2);
    assert.equal(map(devs, { hasDevOptions: false }).options.dev0, undefined);
  });

  test('a deny-all device rule keeps the spec\'s devices usable (allowed after it, as runc does)', () => {
    const m = map((c) => {
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
    });
    assert.deepEqual(keys(m, (k) => k.includes('devices')).at(-1), { key: 'lxc.cgroup2.devices.allow', value: 'c 10:229 rwm' });
  });

  test('linux.sysctl, hooks and root.readonly → the mapping\'s LXC hooks (run on the node)', () => {
    const m = map((c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.hooks = { prestart: [{ path: '/usr/bin/true' }], poststart: [{ path: '/usr/bin/true' }] };
      c.root.readonly = true;
    });
    const hooks = keys(m, (k) => k.startsWith('lxc.hook.'));
    assert.ok(hooks.some((e) => e.key === 'lxc.hook.mount' && e.value.includes("'/proc/sys/net/ipv4/ip_forward'")));
    assert.ok(hooks.some((e) => e.key === 'lxc.hook.start-host' && e.value.includes("'/usr/bin/true'")));
    assert.ok(hooks.some((e) => e.value.startsWith('/bin/mount -o remount,bind,ro')));
    assert.ok(m.degradations.some((d) => d.field === 'hooks.poststart'), 'poststart has no LXC moment: a degradation');
  });

  test('masked and read-only paths → the mapping\'s optional mount entries, rootfs paths under Proxmox\'s /var/lib/lxc/VMID/rootfs', () => {
    const m = map(
      (c) => {
        c.linux.maskedPaths = ['/proc/kcore', '/proc/acpi'];
        c.linux.readonlyPaths = ['/proc/sys', '/etc/app'];
      },
      { pathKind: (p) => (p === '/proc/kcore' ? 'file' : 'dir') },
    );
    assert.deepEqual(keys(m, (k) => k === 'lxc.mount.entry'), [
      { key: 'lxc.mount.entry', value: '/dev/null proc/kcore none bind,ro,optional 0 0' },
      { key: 'lxc.mount.entry', value: 'tmpfs proc/acpi tmpfs ro,optional 0 0' },
      { key: 'lxc.mount.entry', value: '/proc/sys proc/sys none bind,ro,optional 0 0' },
      { key: 'lxc.mount.entry', value: `${PVE_ROOTFS}/etc/app etc/app none bind,ro,optional 0 0` },
    ]);
    assert.equal(forVmid(m.lxc, 123).at(-1)!.value, '/var/lib/lxc/123/rootfs/etc/app etc/app none bind,ro,optional 0 0');
  });

  test('what Proxmox sets itself is not written again: no rootfs, net, idmap, autodev, namespace or uts keys', () => {
    const m = map((c) => c.linux.namespaces.push({ type: 'user' }));
    for (const e of m.lxc) assert.ok(!LEFT_TO_PROXMOX.some((l) => e.key.startsWith(l.prefix)), e.key);
    const shared = map((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network')));
    assert.ok(shared.degradations.some((d) => d.field === 'linux.namespaces' && /network/.test(d.reason)), 'a host namespace the container does not share is a degradation');
    assert.ok(map((c) => (c.linux.cgroupsPath = '/x/y')).degradations.some((d) => d.field === 'linux.cgroupsPath'));
  });

  test('through an API token: Proxmox\'s defaults stand in for hardening keys (capabilities, rlimits, nnp, oom, masked/readonly paths, device rules, root.readonly), each a degradation', () => {
    const input = { id: 'd', spec: { ...(defaultRuntimeConfig() as RuntimeConfig), process: { ...(defaultRuntimeConfig() as RuntimeConfig).process, oomScoreAdj: 100 } }, bridge: 'vmbr0', unprivileged: true, hasOciOptions: true, mapOciToLxc };
    const root = mapOciToPve({ ...input, callerIsRoot: true });
    for (const k of ['lxc.cap.keep', 'lxc.prlimit.nofile', 'lxc.no_new_privs', 'lxc.proc.oom_score_adj', 'lxc.mount.entry', 'lxc.cgroup2.devices.deny', 'lxc.hook.mount']) assert.ok(root.rootOnly.includes(k), k);
    const token = mapOciToPve({ ...input, callerIsRoot: false });
    assert.deepEqual(token.lxc, [], 'nothing the API cannot set');
    assert.deepEqual(token.rootOnly, []);
    const fields = token.degradations.filter((d) => /an API token cannot set raw lxc keys/.test(d.reason)).map((d) => d.field);
    assert.deepEqual(fields, ['process.capabilities', 'process.rlimits', 'process.noNewPrivileges', 'process.oomScoreAdj', 'linux.maskedPaths/readonlyPaths', 'linux.resources.devices', 'root.readonly']);
  });

  test('through an API token: what changes what the program sees (seccomp, sysctl, hooks, devices, limits) stays root-only: refused', () => {
    const m = map((c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
      c.linux.resources = { pids: { limit: 10 } };
    }, { callerIsRoot: false });
    assert.deepEqual(m.rootOnly, ['dev0 (device passthrough)', 'lxc.seccomp.profile', 'lxc.cgroup2.pids.max', 'lxc.hook.mount']);
  });

  test('versionAtLeast compares Proxmox versions numerically', () => {
    assert.equal(versionAtLeast('9.1.1', '9.1'), true);
    assert.equal(versionAtLeast('9.0.11', '9.1'), false);
    assert.equal(versionAtLeast('10.0', '9.1'), true);
    assert.equal(versionAtLeast('8.4.1', '9.1'), false);
  });
});

describe('rootOnlySettings: what pve-container leaves to root@pam', () => {
  test('bind mounts, devices, hookscript, features beyond nesting alone, raw lxc keys', () => {
    assert.deepEqual(rootOnlySettings({ mp0: '/srv,mp=/srv', mp1: 'local-zfs:subvol-1-disk-1,mp=/d' }, [], true), ['mp0 (bind mount of /srv)']);
    assert.deepEqual(rootOnlySettings({ dev0: '/dev/fuse' }, [], true), ['dev0 (device passthrough)']);
    assert.deepEqual(rootOnlySettings({ hookscript: 'local:snippets/h.pl' }, [], true), ['hookscript']);
    assert.deepEqual(rootOnlySettings({ features: 'nesting=1' }, [], true), []);
    assert.deepEqual(rootOnlySettings({ features: 'nesting=0' }, [], true), ['features nesting=0 (only nesting alone is open to API tokens)']);
    assert.deepEqual(rootOnlySettings({ features: 'fuse=1' }, [], true), ['features fuse=1 (only nesting alone is open to API tokens)']);
    assert.deepEqual(rootOnlySettings({ features: 'nesting=1' }, [], false), ['features nesting=1 (of a privileged container)']);
    assert.deepEqual(rootOnlySettings({}, [{ key: 'lxc.init.cwd', value: '/x' }, { key: 'lxc.init.cwd', value: '/y' }], true), ['lxc.init.cwd']);
  });
});
