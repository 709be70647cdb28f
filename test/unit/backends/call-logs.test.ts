// Where crun's and runc's per-call logs go, and that the logs of dead berth processes are swept.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallLogs } from '../../../src/backends/oci-cli/call-logs.js';
import { lastMessage } from '../../../src/backends/oci-cli/oci-cli-backend.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-call-logs-test-');
after(() => tmp.remove());

/** A pid that is not running: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Runs `fn` with $TMPDIR set to tmp/`name` (what CallLogs reads), then puts it back. */
function withTmpdir(name: string, fn: (dir: string) => void): void {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = join(tmp.path, name);
  try {
    fn(process.env.TMPDIR);
  } finally {
    process.env.TMPDIR = saved;
  }
}

describe('CallLogs', () => {
  test('logs go to a private directory under $TMPDIR, never into the state directory', () => {
    withTmpdir('tmp1', (tmpdir) => {
      mkdirSync(tmpdir);
      const stateDir = join(tmp.path, 'state1');
      const logs = new CallLogs([stateDir]);
      const a = logs.next()!;
      const b = logs.next('.json')!;
      const dir = join(tmpdir, `berth-calls-${process.getuid!()}`);
      assert.equal(a, join(dir, `${process.pid}-${a.match(/-(\d+)\.log$/)![1]}.log`));
      assert.ok(b.startsWith(`${dir}/${process.pid}-`) && b.endsWith('.json'), b);
      assert.notEqual(a.replace(/\.log$/, ''), b.replace(/\.json$/, ''), 'one sequence for every kind of file');
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    });
  });

  test("the logs of dead berth processes are removed, live ones' kept, and 0.8.0's .call-*.log in the state directory too", () => {
    withTmpdir('tmp2', (tmpdir) => {
      const dir = join(tmpdir, `berth-calls-${process.getuid!()}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stateDir = join(tmp.path, 'state2');
      mkdirSync(stateDir);
      const dead = deadPid();
      for (const f of [`${dead}-0.log`, `${dead}-1.json`, '1-0.log', 'other.txt']) writeFileSync(join(dir, f), '');
      for (const f of [`.call-${dead}-3.log`, '.call-1-0.log', 'c1']) writeFileSync(join(stateDir, f), '');
      new CallLogs([stateDir]).next();
      // pid 1 runs; "other.txt" is not berth's.
      assert.deepEqual(readdirSync(dir).sort(), ['1-0.log', 'other.txt']);
      assert.deepEqual(readdirSync(stateDir).sort(), ['.call-1-0.log', 'c1']);
    });
  });

  test('a shared directory that is not safely ours (group-writable) is not used', () => {
    withTmpdir('tmp3', (tmpdir) => {
      const shared = join(tmpdir, `berth-calls-${process.getuid!()}`);
      mkdirSync(shared, { recursive: true, mode: 0o777 });
      const path = new CallLogs().next()!;
      assert.ok(!path.startsWith(`${shared}/`), path);
      assert.ok(path.startsWith(join(tmpdir, 'berth-calls-')), path);
    });
  });
});

describe('lastMessage', () => {
  test("crun's line broken before the errno text is joined, so the path stays in the message", () => {
    assert.equal(lastMessage('open log file /r/crun/.call-1-0.log\n: Read-only file system\n'), 'open log file /r/crun/.call-1-0.log: Read-only file system');
    assert.equal(lastMessage('first\nsecond\n'), 'second');
    assert.equal(lastMessage(''), undefined);
  });
});
