import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapSeccomp } from '../../../src/backends/lxc/lxc-seccomp.js';

const X86 = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

test('every action LXC has, errno defaults, masked arguments, rules equal to the default left out', () => {
  const r = mapSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: X86,
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['bdflush'], action: 'SCMP_ACT_ERRNO' },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      { names: ['ptrace'], action: 'SCMP_ACT_KILL' },
      { names: ['kexec_load'], action: 'SCMP_ACT_TRAP' },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  }, 'x64');
  assert.equal(r.text, ['2', 'allowlist errno 1', '[all]', 'read allow', 'write allow', 'clone3 errno 38', 'ptrace kill', 'kexec_load trap',
    'clone allow [0,0,SCMP_CMP_MASKED_EQ,2114060288]', 'personality allow [0,0,SCMP_CMP_EQ]', 'personality allow [0,8,SCMP_CMP_EQ]', ''].join('\n'));
  assert.deepEqual(r.degradations, []);
  assert.match(mapSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: X86 }, 'x64').text, /^2\ndenylist allow\n/);
});

test('refusals name the field; a short architecture list is a degradation', () => {
  for (const [profile, re] of [
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_LOG' }] }, /syscalls\[0\]\.action: SCMP_ACT_LOG/],
    [{ defaultAction: 'SCMP_ACT_KILL_PROCESS' }, /defaultAction: SCMP_ACT_KILL_PROCESS/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }, /listenerPath/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }, /flags\[0\]: LXC cannot set SECCOMP_FILTER_FLAG_LOG/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_BOGUS' }] }] }, /args\[0\]\.op/],
  ] as const) assert.throws(() => mapSeccomp(profile as Record<string, unknown>, 'x64'), re);
  assert.equal(mapSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }, 'x64').degradations[0]?.field, 'linux.seccomp.architectures');
});
