// berth's zod schema of config.json against the OCI runtime-spec's own JSON schema (the oracle):
// on every config of the corpus both accept or both refuse. Where berth is stricter than the
// schema, the case says why (a rule of the spec's text the schema does not encode, or what berth
// needs to run a Linux container).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configProblem, ociVersionProblem, runtimeConfigSchema } from '../../../src/core/oci/runtime-config.js';
import { busyboxConfig } from '../../helpers/bundle.js';
import { validateConfig } from '../../helpers/oci-schema.js';

const schema = validateConfig();

interface Case {
  name: string;
  edit: (c: Record<string, any>) => void;
  /** Words berth's message must hold, for a refused config. */
  words?: string[];
  /** Why berth refuses what the schema accepts (or accepts what it refuses). */
  differs?: string;
}

/** The schema in Debian (1.0.2+) predates the "time" namespace and 1.1's fields. */
const OLD_SCHEMA = 'the packaged schema is from spec 1.0.2+; berth follows the spec up to 1.3';

const VALID: Case[] = [
  { name: 'the busybox config', edit: () => undefined },
  { name: 'unknown top-level and nested fields', edit: (c) => { c.vendor = { x: [1] }; c.process.future = 1; c.linux.newThing = 'x'; } },
  { name: 'namespaces with paths', edit: (c) => (c.linux.namespaces = [{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }]) },
  { name: 'uid and gid mappings', edit: (c) => { c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]; c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]; } },
  { name: 'devices', edit: (c) => (c.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 }]) },
  { name: 'resources', edit: (c) => (c.linux.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 1 << 28, swap: -1 }, cpu: { shares: 512, quota: -1, period: 100000, cpus: '0' }, pids: { limit: 100 }, blockIO: { weight: 100 }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }], unified: { 'memory.high': '1G' } }) },
  { name: 'cgroupsPath, sysctl, masked and readonly paths', edit: (c) => { c.linux.cgroupsPath = '/my/path'; c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; c.linux.maskedPaths = ['/proc/kcore']; c.linux.readonlyPaths = ['/proc/sys']; } },
  { name: 'seccomp', edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] }) },
  { name: 'hooks with args, env and timeout', edit: (c) => (c.hooks = { prestart: [{ path: '/bin/true', args: ['true'], env: ['A=1'], timeout: 5 }], poststop: [{ path: '/bin/true' }] }) },
  { name: 'process: capabilities, rlimits, consoleSize, user, oomScoreAdj', edit: (c) => { c.process.consoleSize = { height: 24, width: 80 }; c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]; c.process.user = { uid: 1000, gid: 1000, umask: 18, additionalGids: [5] }; c.process.oomScoreAdj = -100; c.process.capabilities = { bounding: ['CAP_KILL'] }; } },
  { name: 'mounts with id mappings', edit: (c) => c.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }) },
  { name: 'ociVersion 1.3.0 with build metadata', edit: (c) => (c.ociVersion = '1.3.0+dev') },
  { name: 'ociVersion 1.1.0-rc.1', edit: (c) => (c.ociVersion = '1.1.0-rc.1') },
  { name: 'the time namespace', edit: (c) => (c.linux.namespaces = [{ type: 'time' }]), differs: `${OLD_SCHEMA}; config-linux.md lists "time" since 1.1` },
];

const INVALID: Case[] = [
  { name: 'namespaces is a string', edit: (c) => (c.linux.namespaces = 'pid'), words: ['linux.namespaces', 'must be an array of', '[{"type": "pid"}]'] },
  { name: 'a namespace without a type', edit: (c) => (c.linux.namespaces = [{ path: '/proc/1/ns/pid' }]), words: ['linux.namespaces.0.type', 'must be one of'] },
  { name: 'an unknown namespace type', edit: (c) => (c.linux.namespaces = [{ type: 'pidns' }]), words: ['linux.namespaces.0.type', 'must be one of pid, network'] },
  { name: 'a namespace path that is a number', edit: (c) => (c.linux.namespaces = [{ type: 'pid', path: 1 }]), words: ['linux.namespaces.0.path', 'Expected string'] },
  { name: 'uidMappings without size', edit: (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1 }]), words: ['linux.uidMappings.0.size'] },
  { name: 'a negative hostID', edit: (c) => (c.linux.gidMappings = [{ containerID: 0, hostID: -1, size: 1 }]), words: ['linux.gidMappings.0.hostID', 'at least 0'] },
  { name: 'a device without a path', edit: (c) => (c.linux.devices = [{ type: 'c' }]), words: ['linux.devices.0.path'] },
  { name: 'a device of type x', edit: (c) => (c.linux.devices = [{ type: 'x', path: '/dev/x' }]), words: ['linux.devices.0.type', 'one of c, b, u, p'] },
  { name: 'a resources device rule without allow', edit: (c) => (c.linux.resources = { devices: [{ access: 'rwm' }] }), words: ['linux.resources.devices.0.allow'] },
  { name: 'memory.limit as a string', edit: (c) => (c.linux.resources = { memory: { limit: '1G' } }), words: ['linux.resources.memory.limit', 'integer'] },
  { name: 'pids without limit', edit: (c) => (c.linux.resources = { pids: {} }), words: ['linux.resources.pids.limit'] },
  { name: 'cpu.shares negative', edit: (c) => (c.linux.resources = { cpu: { shares: -1 } }), words: ['linux.resources.cpu.shares', 'at least 0'] },
  { name: 'cgroupsPath as a number', edit: (c) => (c.linux.cgroupsPath = 5), words: ['linux.cgroupsPath', 'Expected string'] },
  { name: 'sysctl with a number value', edit: (c) => (c.linux.sysctl = { 'kernel.x': 1 }), words: ['linux.sysctl.kernel.x', 'Expected string'] },
  { name: 'seccomp without defaultAction', edit: (c) => (c.linux.seccomp = { syscalls: [] }), words: ['linux.seccomp.defaultAction', 'is required'] },
  { name: 'a seccomp rule without names', edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ action: 'SCMP_ACT_ERRNO' }] }), words: ['linux.seccomp.syscalls.0.names'] },
  { name: 'maskedPaths is a string', edit: (c) => (c.linux.maskedPaths = '/proc/kcore'), words: ['linux.maskedPaths', 'Expected array'] },
  { name: 'readonlyPaths holds a number', edit: (c) => (c.linux.readonlyPaths = [1]), words: ['linux.readonlyPaths.0'] },
  { name: 'linux is an array', edit: (c) => (c.linux = []), words: ['linux', 'Expected object'] },
  { name: 'process.user.uid negative', edit: (c) => (c.process.user.uid = -1), words: ['process.user.uid', 'at least 0'] },
  { name: 'process.user.gid a string', edit: (c) => (c.process.user.gid = '0'), words: ['process.user.gid', 'integer'] },
  { name: 'process.env a string', edit: (c) => (c.process.env = 'PATH=/bin'), words: ['process.env', 'Expected array'] },
  { name: 'process.env holds a number', edit: (c) => (c.process.env = [1]), words: ['process.env.0'] },
  { name: 'capabilities.bounding a string', edit: (c) => (c.process.capabilities = { bounding: 'CAP_KILL' }), words: ['process.capabilities.bounding', 'Expected array'] },
  { name: 'an rlimit without hard', edit: (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 }]), words: ['process.rlimits.0.hard'] },
  { name: 'an rlimit type in lower case', edit: (c) => (c.process.rlimits = [{ type: 'rlimit_nofile', soft: 1, hard: 1 }]), words: ['process.rlimits.0.type', 'RLIMIT_NOFILE'] },
  { name: 'consoleSize without width', edit: (c) => (c.process.consoleSize = { height: 1 }), words: ['process.consoleSize.width'] },
  { name: 'terminal a string', edit: (c) => (c.process.terminal = 'yes'), words: ['process.terminal', 'Expected boolean'] },
  { name: 'oomScoreAdj a float', edit: (c) => (c.process.oomScoreAdj = 1.5), words: ['process.oomScoreAdj', 'integer'] },
  { name: 'a mount without destination', edit: (c) => c.mounts.push({ type: 'tmpfs', source: 'tmpfs' }), words: ['mounts.', 'destination', 'is required'] },
  { name: 'mount options a string', edit: (c) => c.mounts.push({ destination: '/x', options: 'ro' }), words: ['options', 'Expected array'] },
  { name: 'hooks.prestart an object', edit: (c) => (c.hooks = { prestart: { path: '/bin/true' } }), words: ['hooks.prestart', 'Expected array'] },
  { name: 'a hook without path', edit: (c) => (c.hooks = { poststop: [{ args: ['x'] }] }), words: ['hooks.poststop.0.path'] },
  { name: 'a hook timeout of 0', edit: (c) => (c.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }), words: ['hooks.prestart.0.timeout', 'at least 1 second'] },
  { name: 'a hook timeout of 1.5', edit: (c) => (c.hooks = { prestart: [{ path: '/bin/true', timeout: 1.5 }] }), words: ['hooks.prestart.0.timeout', 'whole number'] },
  { name: 'hook args a string', edit: (c) => (c.hooks = { prestart: [{ path: '/bin/true', args: 'x' }] }), words: ['hooks.prestart.0.args'] },
  { name: 'annotations with a number', edit: (c) => (c.annotations = { a: 1 }), words: ['annotations.a'] },
  { name: 'hostname a number', edit: (c) => (c.hostname = 1), words: ['hostname'] },
  { name: 'root.readonly a string', edit: (c) => (c.root.readonly = 'true'), words: ['root.readonly', 'Expected boolean'] },
  { name: 'ociVersion a number', edit: (c) => (c.ociVersion = 1), words: ['ociVersion', 'Expected string'] },
  {
    name: 'a relative hook path',
    edit: (c) => (c.hooks = { prestart: [{ path: 'bin/true' }] }),
    words: ['hooks.prestart.0.path', 'must be an absolute path'],
    differs: 'config.md: a hook\'s path "MUST be absolute"; the schema types it as a plain string',
  },
  {
    name: 'no process.args',
    edit: (c) => delete c.process.args,
    words: ['process.args is required'],
    differs: 'the spec makes args OPTIONAL for Windows (commandLine); a Linux container needs its program',
  },
  {
    name: 'no process',
    edit: (c) => delete c.process,
    words: ['process is required'],
    differs: 'process is OPTIONAL in the spec (for a create that runs nothing yet); every berth backend needs the process to run',
  },
  {
    name: 'ociVersion 2.0.0',
    edit: (c) => (c.ociVersion = '2.0.0'),
    words: ['ociVersion "2.0.0" is not supported', 'berth supports 1.0.0 to 1.3.x'],
    differs: 'the schema takes any string; a major version berth does not know may mean anything',
  },
  {
    name: 'ociVersion not SemVer',
    edit: (c) => (c.ociVersion = '1.0'),
    words: ['ociVersion "1.0" is not SemVer', 'MUST be in SemVer v2.0.0 format'],
    differs: 'config.md: ociVersion "MUST be in SemVer v2.0.0 format"; the schema types it as a plain string',
  },
];

const berthProblem = configProblem;

describe('runtime config schema: berth agrees with the OCI JSON schema', () => {
  for (const c of VALID) {
    test(`valid: ${c.name}`, () => {
      const config = busyboxConfig({ edit: c.edit });
      assert.equal(berthProblem(config), undefined, 'berth accepts it');
      if (c.differs) assert.notEqual(schema(config), undefined, `the schema refuses it (${c.differs}): else drop "differs"`);
      else assert.equal(schema(config), undefined, 'the OCI schema accepts it');
    });
  }
  for (const c of INVALID) {
    test(`invalid: ${c.name}`, () => {
      const config = busyboxConfig({ edit: c.edit });
      const problem = berthProblem(config);
      assert.ok(problem, 'berth refuses it');
      for (const w of c.words ?? []) assert.ok(problem.includes(w), `${JSON.stringify(problem)} lacks ${JSON.stringify(w)}`);
      if (c.differs) assert.equal(schema(config), undefined, `the schema accepts it (${c.differs}): else drop "differs"`);
      else assert.notEqual(schema(config), undefined, 'the OCI schema refuses it too');
    });
  }

  test('the parsed config keeps unknown fields', () => {
    const config = busyboxConfig({ edit: (c) => { c.vendor = { a: 1 }; c.linux.namespaces.push({ type: 'pid', vendorKey: 1 }); } });
    const r = runtimeConfigSchema.parse(config) as Record<string, any>;
    assert.deepEqual(r.vendor, { a: 1 });
    assert.equal(r.linux.namespaces.at(-1).vendorKey, 1);
  });
});

describe('ociVersion', () => {
  test('1.0.0 to 1.3.x are accepted', () => {
    for (const v of ['1.0.0', '1.0.2', '1.0.2-dev', '1.1.0', '1.2.0', '1.2.1', '1.3.0', '1.3.9+build.1']) assert.equal(ociVersionProblem(v), undefined, v);
  });
  test('others are refused, quoting the rule', () => {
    for (const v of ['2.0.0', '0.9.0', '1.4.0']) assert.match(ociVersionProblem(v)!, /is not supported: berth supports 1\.0\.0 to 1\.3\.x/, v);
    for (const v of ['1.0', 'abc', '', '01.0.0', 'v1.0.0']) assert.match(ociVersionProblem(v)!, /is not SemVer: it "MUST be in SemVer v2\.0\.0 format"/, v);
  });
});
