// berth run by a user other than root (issue 19): one clear message and exit 10 at the start of
// every verb that needs root, before anything is read or made; the verbs that touch nothing of the
// host's work, and doctor says what this user can and cannot do.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runProgram } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { VERBS } from '../../src/cli/verbs.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

describe('berth as a user other than root', { skip: missing('setpriv') ?? (process.getuid?.() !== 0 ? 'the test itself must run as root to become another user' : undefined) }, () => {
  const tmp = tempDir('berth-non-root-');
  after(tmp.remove);
  chmodSync(tmp.path, 0o777);
  const root = join(tmp.path, 'root');
  const asNobody = (args: string[]) => runProgram('setpriv', [...NOBODY, process.execPath, BERTH_BIN, '--root', root, ...args], { cwd: tmp.path });

  test('every verb that needs root stops at once with "berth needs root", exit 10, and makes nothing', async () => {
    const needRoot = Object.entries(VERBS).filter(([, spec]) => !spec.anyUser).map(([name]) => name);
    assert.ok(needRoot.includes('create') && needRoot.includes('state') && needRoot.includes('image'), needRoot.join(' '));
    for (const verb of needRoot) {
      const r = await asNobody([verb, 'c1']);
      assert.equal(r.code, 10, `${verb}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`berth needs root: \`berth ${verb}\` works with cgroups, namespaces, mounts and the container state under ${root}.*sudo berth ${verb}`), verb);
      assert.doesNotMatch(r.stderr, /EACCES/, verb);
    }
    assert.equal(existsSync(root), false, 'no state root made');
  });

  test('help, version, spec and features work; doctor warns that this user is not root', async () => {
    assert.equal((await asNobody(['--help'])).code, 0);
    assert.equal((await asNobody(['version'])).code, 0);
    assert.equal((await asNobody(['features'])).code, 0);
    const spec = await asNobody(['spec']);
    assert.equal(spec.code, 0, spec.stderr);
    assert.ok(readdirSync(tmp.path).includes('config.json'));
    const doctor = await asNobody(['doctor', '--format', 'json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ level: string; what: string; message: string }> }).checks;
    const user = checks.find((c) => c.what === 'user');
    assert.equal(user?.level, 'warn', doctor.stdout);
    assert.match(user!.message, /^running as uid 65534, not root: every verb that makes, changes or reads containers needs root/);
    assert.ok(doctor.code !== null && doctor.code >= 1, 'a warning at least');
  });

  test('root itself is not refused', async () => {
    const r = await runProgram(process.execPath, [BERTH_BIN, '--root', root, 'list']);
    assert.equal(r.code, 0, r.stderr);
  });
});
