// One test per row of the OCI → Proxmox table in docs/backends/proxmox.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootOnlySettings, mapOciToPve, type PveMappingInput } from '../../../../src/backends/pve/pve-mapping.js';
import { versionAtLeast } from '../../../../src/backends/pve/proxmox.js';
import { defaultRuntimeConfig } from '../../../../src/core/oci/default-spec.js';
import type { RuntimeConfig } from '../../../../src/core/oci/runtime-config.js';
import { loadMapOciToLxc } from '../../../../src/backends/pve/lxc-mapping-link.js';

const mapOciToLxc = await loadMapOciToLxc();

function spec(edit?: (c: Record<string, any>) => void): RuntimeConfig {
  const c = defaultRuntimeConfig() as Record<string, any>;
  c.process.args = ['/app/server', '--port', '8080', 'a b'];
  c.process.env = ['PATH=/bin', 'MODE=prod'];
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
