// linux.seccomp on the lxc backend: the same bundle under raw crun (the yardstick) and under
// berth's lxc backend denies the same calls with the same errno, allows the rest, and honours
// argument conditions; a profile LXC cannot express is refused before anything is made.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, runProgram } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS, lxcIds } from '../helpers/host.js';
import { berthStateDir } from '../../src/core/state-root.js';

const lxcCase = ALL_BACKENDS.find((b) => b.name === 'lxc');
const crunCase = ALL_BACKENDS.find((b) => b.name === 'crun-cli');
const skip = !lxcCase ? 'lxc is not among BERTH_TEST_BACKENDS' : (lxcCase.skip ?? crunCase?.skip);

// mkdir: denied with EPERM (errnoRet unset); chmod to a mode with all "other" bits set: ENOSYS
// (a masked comparison); chmod 750: allowed; every other call allowed.
const PROBE = [
  'mkdir /w/d 2>&1; echo "mkdir=$?"',
  'touch /w/f && echo touch=ok',
  'chmod 750 /w/f && echo chmod750=ok',
  'chmod 757 /w/f 2>&1; echo "chmod757=$?"',
  'stat -c %a /w/f',
].join('; ');

const PROFILE = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat', 'no_such_syscall_berth'], action: 'SCMP_ACT_ERRNO' },
    { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 1, value: 0o7, valueTwo: 0o7, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 2, value: 0o7, valueTwo: 0o7, op: 'SCMP_CMP_MASKED_EQ' }] },
  ],
};

describe('linux.seccomp on lxc, against crun', { skip }, () => {
  const tmp = tempDir('berth-lxc-seccomp-');
  const root = join(tmp.path, 'root');
  const bundle = makeBusyboxBundle(join(tmp.path, 'bundle'), {
    args: ['sh', '-c', PROBE],
    edit: (c) => {
      c.linux.seccomp = PROFILE;
      c.mounts.push({ destination: '/w', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1777'] });
    },
  });
  after(async () => {
    for (const id of lxcIds(root)) await berth(['--root', root, 'delete', '--force', id]);
    tmp.remove();
  });

  test('a denied call fails with the errno the profile names, an allowed one works, an argument condition holds', async () => {
    const crun = await runProgram('crun', ['--root', join(tmp.path, 'crun'), 'run', '--bundle', bundle, 'seccomp-yardstick']);
    assert.equal(crun.code, 0, crun.stderr);
    const lxc = await berth(['--root', root, '--runtime', 'lxc', 'run', '--bundle', bundle, 'seccomp-lxc']);
    assert.equal(lxc.stderr, '');
    assert.equal(lxc.code, 0);
    assert.match(crun.stdout, /Operation not permitted\nmkdir=1\n/, 'the yardstick denies mkdir');
    assert.match(crun.stdout, /chmod750=ok\n.*Function not implemented\nchmod757=1\n750\n$/s, 'the yardstick applies the masked condition');
    assert.equal(lxc.stdout, crun.stdout);
  });

  test('a profile LXC cannot express is refused with the field and the reason, and nothing is left behind', async () => {
    const refused = makeBusyboxBundle(join(tmp.path, 'refused'), {
      args: ['true'],
      edit: (c) => {
        c.linux.seccomp = { ...PROFILE, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_LOG' }] };
      },
    });
    const r = await berth(['--root', root, '--runtime', 'lxc', 'create', '--bundle', refused, 'seccomp-refused']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /linux\.seccomp\.syscalls\[0\]\.action: SCMP_ACT_LOG cannot be applied on the lxc backend: LXC has no log action/);
    assert.deepEqual(lxcIds(root), []);
    const list = await berth(['--root', root, 'list', '--quiet']);
    assert.equal(list.stdout.trim(), '');
    const lxcpath = join(berthStateDir(root), 'lxc');
    assert.ok(existsSync(join(berthStateDir(root), 'containers')), 'the root was used (the check below looks in the right place)');
    assert.ok(!existsSync(lxcpath) || readdirSync(lxcpath).length === 0, 'no LXC container left');
  });
});
