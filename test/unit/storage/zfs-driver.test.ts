// The zfs driver's decisions over a scripted zfs (the real one is in test/integration): what it
// checks, what it cleans up, which berth error a zfs answer becomes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StorageError, StorageFullError, VolumeExistsError, VolumeNotFoundError } from '../../../src/core/errors.js';
import type { ToolResult } from '../../../src/core/exec.js';
import { ZfsCli } from '../../../src/storage/zfs/zfs-cli.js';
import { ZfsDriver } from '../../../src/storage/zfs/zfs-driver.js';

type Answer = Partial<ToolResult>;

/** Answers by the first matching argv prefix (joined with spaces); everything else succeeds. */
function scripted(rules: Array<[string, Answer | (() => Answer)]>): { driver: ZfsDriver; calls: string[] } {
  const calls: string[] = [];
  const cli = new ZfsCli({
    run: async (argv) => {
      const line = argv.join(' ');
      calls.push(line);
      const rule = rules.find(([prefix]) => line.startsWith(prefix));
      const a = rule ? (typeof rule[1] === 'function' ? rule[1]() : rule[1]) : {};
      return { exitCode: 0, signal: null, stdout: '', stderr: '', ...a };
    },
    sleep: async () => undefined,
  });
  return { driver: new ZfsDriver({ dataset: 'tank/berth', cli }), calls };
}

const fail = (stderr: string): Answer => ({ exitCode: 1, stderr });

describe('ZfsDriver over a scripted zfs', () => {
  test('the layout is made once, below a parent that must exist, from one listing', async () => {
    const { driver, calls } = scripted([['zfs list -H -o name -t filesystem -d 1 -r tank/berth', { stdout: 'tank/berth\ntank/berth/images\n' }]]);
    await driver.setProperties('container', 'c1', { ref: 'r' });
    await driver.setProperties('container', 'c1', { ref: undefined });
    assert.deepEqual(calls, [
      'zfs list -H -o name -t filesystem -d 1 -r tank/berth',
      'zfs create tank/berth/containers',
      'zfs set berth:ref=r tank/berth/containers/c1',
      'zfs inherit berth:ref tank/berth/containers/c1',
    ]);
  });

  test('a missing parent is named, with the pool or the command that makes it', async () => {
    const missingDataset = scripted([
      ['zfs list -H -o name -t filesystem -d 1 -r tank/berth', fail("cannot open 'tank/berth': dataset does not exist")],
      ['zpool list -H -o name tank', { stdout: 'tank\n' }],
    ]);
    await assert.rejects(missingDataset.driver.exists('image', 'x'), (err: unknown) => err instanceof StorageError && /"tank\/berth" does not exist in pool "tank": create it with "zfs create -p tank\/berth"/.test(err.message));
    const missingPool = scripted([
      ['zfs list -H -o name -t filesystem -d 1 -r tank/berth', fail("cannot open 'tank/berth': dataset does not exist")],
      ['zpool list -H -o name tank', fail("cannot open 'tank': no such pool")],
      ['zpool list -H -o name', { stdout: 'rpool\n' }],
    ]);
    await assert.rejects(missingPool.driver.exists('image', 'x'), (err: unknown) => err instanceof StorageError && /there is no pool "tank" \(imported pools: rpool\)/.test(err.message));
  });

  test('a clone whose origin is not the template is destroyed and refused', async () => {
    const { driver, calls } = scripted([
      ['zfs get -H -p -o name,property,value,source origin,mountpoint,mounted tank/berth/containers/c1', {
        stdout: 'tank/berth/containers/c1\torigin\ttank/other@x\t-\ntank/berth/containers/c1\tmountpoint\t/m/c1\tinherited\ntank/berth/containers/c1\tmounted\tyes\t-\n',
      }],
    ]);
    await assert.rejects(driver.cloneTemplate('img', 'c1'), (err: unknown) => err instanceof StorageError && /has origin tank\/other@x instead of tank\/berth\/images\/img@template/.test(err.message));
    assert.ok(calls.includes('zfs destroy -r tank/berth/containers/c1'), calls.join('\n'));
  });

  test('an unmounted volume is refused and, when just made, destroyed', async () => {
    const { driver, calls } = scripted([
      ['zfs get -H -p -o name,property,value,source mountpoint,mounted tank/berth/images/t', { stdout: 'tank/berth/images/t\tmountpoint\tnone\tlocal\ntank/berth/images/t\tmounted\tno\t-\n' }],
    ]);
    await assert.rejects(driver.createTemplate('t'), /dataset tank\/berth\/images\/t is not mounted \(mountpoint=none, mounted=no\)/);
    assert.ok(calls.includes('zfs destroy -r tank/berth/images/t'));
  });

  test('zfs answers become berth errors that name the volume', async () => {
    const { driver } = scripted([
      ['zfs create -o berth:digest=d tank/berth/images/full', fail("cannot create 'tank/berth/images/full': out of space")],
      ['zfs clone tank/berth/images/t@template tank/berth/containers/dup', fail("cannot create 'tank/berth/containers/dup': dataset already exists")],
      ['zfs clone tank/berth/images/gone@template', fail("cannot open 'tank/berth/images/gone@template': dataset does not exist")],
      ['zfs get -H -o name type tank/berth/images/gone', fail("cannot open 'tank/berth/images/gone': dataset does not exist")],
      ['zfs destroy -r tank/berth/images/used', fail("cannot destroy 'tank/berth/images/used': filesystem has dependent clones\nuse '-R' to destroy the following datasets:\ntank/berth/containers/c1")],
      ['zfs destroy tank/berth/containers/c1@s', fail("cannot open 'tank/berth/containers/c1@s': dataset does not exist")],
      ['zfs destroy -r tank/berth/containers/stuck', fail("cannot unmount '/m/stuck': pool or dataset is busy")],
    ]);
    await assert.rejects(driver.createTemplate('full', { digest: 'd' }), (e: unknown) => e instanceof StorageFullError && /template "full" .*pool "tank" is out of space/.test(e.message));
    await assert.rejects(driver.cloneTemplate('t', 'dup'), VolumeExistsError);
    await assert.rejects(driver.cloneTemplate('gone', 'c2'), (e: unknown) => e instanceof VolumeNotFoundError && e.message === 'template "gone" does not exist (no dataset tank/berth/images/gone)');
    await assert.rejects(driver.destroy('image', 'used'), (e: unknown) => e instanceof StorageError && /template "used" still has container volumes cloned from it: .*tank\/berth\/containers\/c1/.test(e.message));
    await assert.rejects(driver.destroySnapshot('c1', 's'), (e: unknown) => e instanceof VolumeNotFoundError && /snapshot "s" of container volume "c1" does not exist/.test(e.message));
    await assert.rejects(driver.destroy('container', 'stuck'), (e: unknown) => e instanceof StorageError && /pool or dataset is busy \(still busy after 7 tries/.test(e.message));
  });

  test('a template is sealed by @template and readonly; a failed readonly drops the snapshot', async () => {
    const ok = scripted([['zfs get -H -o name type tank/berth/images/t@template', fail("cannot open 'x': dataset does not exist")]]);
    await ok.driver.sealTemplate('t');
    assert.deepEqual(ok.calls.slice(-2), ['zfs snapshot tank/berth/images/t@template', 'zfs set readonly=on tank/berth/images/t']);
    const bad = scripted([
      ['zfs get -H -o name type tank/berth/images/t@template', fail("cannot open 'x': dataset does not exist")],
      ['zfs set readonly=on', fail('permission denied')],
    ]);
    await assert.rejects(bad.driver.sealTemplate('t'), /cannot make template "t" read-only/);
    assert.equal(bad.calls.at(-1), 'zfs destroy tank/berth/images/t@template');
  });

  test('list reads one zfs get over the kind, user properties set locally only, unmounted volumes included', async () => {
    const out = [
      'tank/berth/images\tmountpoint\t/m\tdefault',
      'tank/berth/images/a\tmountpoint\t/m/a\tinherited from tank/berth',
      'tank/berth/images/a\tmounted\tyes\t-',
      'tank/berth/images/a\torigin\t-\t-',
      'tank/berth/images/a\tberth:digest\tsha256:a\tlocal',
      'tank/berth/images/a\tberth:owner\tsomeone\tinherited from tank/berth',
      'tank/berth/images/a@template\ttype\tsnapshot\t-',
      'tank/berth/images/b\tmountpoint\t/m/b\tinherited from tank/berth',
      'tank/berth/images/b\tmounted\tyes\t-',
      'tank/berth/images/c\tmountpoint\t/m/c\tinherited from tank/berth',
      'tank/berth/images/c\tmounted\tno\t-',
    ].join('\n');
    const { driver, calls } = scripted([['zfs get -H -p -r -d 2 -o name,property,value,source all tank/berth/images', { stdout: out }]]);
    assert.deepEqual(await driver.list('image'), [
      { kind: 'image', name: 'a', path: '/m/a', mounted: true, origin: undefined, sealed: true, properties: { digest: 'sha256:a' } },
      { kind: 'image', name: 'b', path: '/m/b', mounted: true, origin: undefined, sealed: false, properties: {} },
      // An unmounted dataset is described, not an error: one must not make the listing fail.
      { kind: 'image', name: 'c', path: '/m/c', mounted: false, origin: undefined, sealed: false, properties: {} },
    ]);
    assert.equal(calls.at(-1), 'zfs get -H -p -r -d 2 -o name,property,value,source all tank/berth/images');
  });
});
