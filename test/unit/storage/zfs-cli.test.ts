import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ToolError } from '../../../src/core/errors.js';
import type { ToolResult } from '../../../src/core/exec.js';
import { classifyZfsStderr, parseGet, ZfsCli, zfsFailure } from '../../../src/storage/zfs/zfs-cli.js';

/** A fake runTool that answers from a script and records argv and the pauses taken. */
function fake(answers: Array<Partial<ToolResult>>): { cli: ZfsCli; calls: string[][]; pauses: number[] } {
  const calls: string[][] = [];
  const pauses: number[] = [];
  const cli = new ZfsCli({
    run: async (argv) => {
      calls.push([...argv]);
      const a = answers.shift() ?? { exitCode: 0 };
      return { exitCode: 0, signal: null, stdout: '', stderr: '', ...a };
    },
    sleep: async (ms) => void pauses.push(ms),
    busyDelaysMs: [10, 20, 40],
  });
  return { cli, calls, pauses };
}

const busy = { exitCode: 1, stderr: "cannot destroy 'p/x': dataset is busy\n" };

describe('ZfsCli busy retry', () => {
  test('a busy destroy is tried again after a short pause, then succeeds', async () => {
    const { cli, calls, pauses } = fake([busy, busy, { exitCode: 0 }]);
    await cli.destroy('p/x', { recursive: true });
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[0], ['zfs', 'destroy', '-r', 'p/x']);
    assert.deepEqual(pauses, [10, 20]);
  });

  test('retries are bounded: the last busy answer surfaces with the tool’s words', async () => {
    const { cli, calls, pauses } = fake([busy, busy, busy, busy, busy]);
    await assert.rejects(cli.destroy('p/x'), (err: unknown) => {
      assert.ok(err instanceof ToolError);
      assert.match(err.message, /^zfs destroy p\/x: cannot destroy 'p\/x': dataset is busy \(still busy after 4 tries in \d+ ms\)$/);
      assert.equal(err.stderr, busy.stderr);
      assert.equal(err.exitCode, 1);
      return true;
    });
    assert.equal(calls.length, 4);
    assert.deepEqual(pauses, [10, 20, 40]);
  });

  test('pool is busy and an unmount’s target is busy are retried too', async () => {
    const { cli, calls } = fake([{ exitCode: 1, stderr: "cannot destroy 'p': pool is busy" }, { exitCode: 0 }]);
    await cli.poolDestroy('p');
    assert.deepEqual(calls, [['zpool', 'destroy', 'p'], ['zpool', 'destroy', 'p']]);
    const t = fake([{ exitCode: 1, stderr: 'umount: /m/x: target is busy.\ncannot unmount' }, { exitCode: 0 }]);
    await t.cli.unmount('p/x');
    assert.equal(t.calls.length, 2);
  });

  test('any other failure surfaces at once, with stderr kept', async () => {
    const { cli, calls, pauses } = fake([{ exitCode: 1, stderr: "cannot create 'p/x': out of space\n" }]);
    await assert.rejects(cli.create('p/x'), (err: unknown) => {
      assert.ok(err instanceof ToolError);
      assert.equal(err.message, "zfs create p/x: cannot create 'p/x': out of space");
      assert.equal(zfsFailure(err), 'no-space');
      return true;
    });
    assert.equal(calls.length, 1);
    assert.deepEqual(pauses, []);
  });

  test('a tool killed by a signal, or silent, still says what happened', async () => {
    const { cli } = fake([{ exitCode: null, signal: 'SIGKILL' }]);
    await assert.rejects(cli.snapshot('p/x@s'), /^ToolError: zfs snapshot p\/x@s: exit SIGKILL$/);
  });
});

describe('ZfsCli argv (works on zfs-fuse 0.7 and OpenZFS 2.x)', () => {
  test('create, clone with properties; one property per set; list and get without -p on list', async () => {
    const { cli, calls } = fake([]);
    await cli.create('p/a', { parents: true, properties: { 'berth:digest': 'sha256:x' } });
    await cli.clone('p/a@template', 'p/c', { properties: { 'berth:id': 'c' } });
    await cli.set('p/a', 'readonly', 'on');
    await cli.inherit('p/a', 'berth:ref');
    await cli.rollback('p/c@s', { destroyNewer: true });
    await cli.rename('p/c', 'p/d');
    await cli.promote('p/d');
    await cli.list('p', { type: 'all', depth: 1 });
    await cli.get(['p/a'], ['used', 'origin'], { depth: 2 });
    assert.deepEqual(calls, [
      ['zfs', 'create', '-p', '-o', 'berth:digest=sha256:x', 'p/a'],
      ['zfs', 'clone', '-o', 'berth:id=c', 'p/a@template', 'p/c'],
      ['zfs', 'set', 'readonly=on', 'p/a'],
      ['zfs', 'inherit', 'berth:ref', 'p/a'],
      ['zfs', 'rollback', '-r', 'p/c@s'],
      ['zfs', 'rename', 'p/c', 'p/d'],
      ['zfs', 'promote', 'p/d'],
      ['zfs', 'list', '-H', '-o', 'name', '-t', 'all', '-d', '1', '-r', 'p'],
      ['zfs', 'get', '-H', '-p', '-r', '-d', '2', '-o', 'name,property,value,source', 'used,origin', 'p/a'],
    ]);
  });

  test('exists: a missing dataset or pool is false, other failures throw', async () => {
    const { cli } = fake([
      { exitCode: 0, stdout: 'p/a\n' },
      { exitCode: 1, stderr: "cannot open 'p/b': dataset does not exist" },
      { exitCode: 1, stderr: "cannot open 'q/b': no such pool 'q'" },
      { exitCode: 1, stderr: 'connect: No such file or directory\nPlease make sure that the zfs-fuse daemon is running.' },
    ]);
    assert.equal(await cli.exists('p/a'), true);
    assert.equal(await cli.exists('p/b'), false);
    assert.equal(await cli.exists('q/b'), false);
    await assert.rejects(cli.exists('p/c'), /zfs-fuse daemon is running/);
  });

  test('getOne: "-" is undefined', async () => {
    const { cli } = fake([{ stdout: 'p/a\torigin\t-\t-\n' }, { stdout: 'p/c\torigin\tp/a@template\t-\n' }]);
    assert.equal(await cli.getOne('p/a', 'origin'), undefined);
    assert.equal(await cli.getOne('p/c', 'origin'), 'p/a@template');
  });

  test('poolList ignores "no pools available"', async () => {
    const { cli } = fake([{ stdout: 'no pools available\n' }, { stdout: 'a\nb\n' }]);
    assert.deepEqual(await cli.poolList(), []);
    assert.deepEqual(await cli.poolList(), ['a', 'b']);
  });
});

describe('parseGet and classifyZfsStderr', () => {
  test('values may hold tabs; sources are kept', () => {
    const t = parseGet('p/a\tused\t372736\t-\np/a\tberth:note\ta\tb c\tlocal\np/a@s\ttype\tsnapshot\t-\n');
    assert.deepEqual(t.get('p/a')?.get('used'), { value: '372736', source: '-' });
    assert.deepEqual(t.get('p/a')?.get('berth:note'), { value: 'a\tb c', source: 'local' });
    assert.deepEqual([...t.keys()], ['p/a', 'p/a@s']);
    assert.throws(() => parseGet('garbage\n'), /unexpected line from zfs get/);
  });

  test('the failures berth tells apart', () => {
    const cases: Array<[string, string]> = [
      ["cannot destroy 'p/x': dataset is busy", 'busy'],
      ['umount: /m: target is busy.', 'busy'],
      ["cannot unmount '/m/x': pool or dataset is busy", 'busy'], // OpenZFS 2.x
      ["cannot open 'p/x': dataset does not exist", 'missing'],
      ["cannot create 'q/x': no such pool 'q'", 'no-pool'],
      ["cannot create 'p/a/b': parent does not exist", 'missing-parent'],
      ["cannot create snapshot 'p/x@s': dataset already exists", 'exists'],
      ["cannot create 'p/x': out of space", 'no-space'],
      ["cannot destroy 'p/x': filesystem has dependent clones", 'has-clones'],
      ["cannot destroy 'p/x': filesystem has children", 'has-children'],
      ["cannot rollback to 'p/x@a': more recent snapshots exist", 'newer-snapshots'],
      ['permission denied', 'other'],
    ];
    for (const [stderr, kind] of cases) assert.equal(classifyZfsStderr(stderr), kind, stderr);
    assert.equal(zfsFailure(new Error('x')), 'other');
  });
});
