import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ContainerStateError } from '../../../src/core/errors.js';
import { isDirectoryLocked } from '../../../src/core/lock.js';
import { executableId, readProcStat } from '../../../src/core/proc.js';
import { ContainerStore, type ContainerRecord } from '../../../src/runtime/container-store.js';
import { assertAllowed, deriveStatus, type ContainerStatus, type Operation } from '../../../src/runtime/status.js';
import { tempDir } from '../../helpers/bundle.js';

function record(extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    version: 1,
    id: 'c1',
    backend: 'crun',
    backendReason: '--runtime flag',
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: new Date().toISOString(),
    owner: 'root',
    annotations: {},
    ...extra,
  };
}

const self = { pid: process.pid, pidStartTime: readProcStat(process.pid)!.startTime };

/** A pid that cannot be in use: above the kernel's pid_max. */
function impossiblePid(): number {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) + 1;
}

/** Pid and start time of a process that has exited and been reaped. */
function deadProcess(): { pid: number; startTime: number } {
  // The shell prints its own /proc stat line and exits; spawnSync reaps it.
  const r = spawnSync('/bin/sh', ['-c', 'cat /proc/$$/stat'], { encoding: 'utf8' });
  const text = r.stdout;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const startTime = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
  assert.ok(pid > 0 && startTime > 0);
  return { pid, startTime };
}

describe('deriveStatus', () => {
  test('no pid: creating while a create holds the lock, else stopped (a killed create)', () => {
    assert.equal(deriveStatus(record(), true), 'creating');
    assert.equal(deriveStatus(record(), false), 'stopped');
    // The lifecycle marks do not matter without a pid.
    assert.equal(deriveStatus(record({ started: true, paused: true }), false), 'stopped');
  });

  test('a live pid: created, running, paused', () => {
    assert.equal(deriveStatus(record({ ...self }), false), 'created');
    assert.equal(deriveStatus(record({ ...self, started: false }), false), 'created');
    assert.equal(deriveStatus(record({ ...self, started: true }), false), 'running');
    assert.equal(deriveStatus(record({ ...self, started: true, paused: true }), false), 'paused');
    assert.equal(deriveStatus(record({ ...self, started: true, paused: false }), false), 'running');
    // createInProgress only matters when there is no pid yet
    assert.equal(deriveStatus(record({ ...self, started: true }), true), 'running');
  });

  test('a live pid without a recorded start time is trusted', () => {
    assert.equal(deriveStatus(record({ pid: process.pid, started: true }), false), 'running');
  });

  test('a dead pid: stopped, whatever the record says', () => {
    const dead = deadProcess();
    for (const marks of [{}, { started: true }, { started: true, paused: true }]) {
      assert.equal(deriveStatus(record({ pid: dead.pid, pidStartTime: dead.startTime, ...marks }), false), 'stopped');
    }
    assert.equal(deriveStatus(record({ pid: impossiblePid(), started: true }), false), 'stopped');
  });

  test('a reused pid (alive, but another start time) is stopped', () => {
    assert.equal(deriveStatus(record({ pid: process.pid, pidStartTime: self.pidStartTime + 1, started: true }), false), 'stopped');
    assert.equal(deriveStatus(record({ pid: process.pid, pidStartTime: 0 }), false), 'stopped');
  });

  test('a zombie is stopped', async (t) => {
    // sh starts a short sleep in the background, prints its pid and execs into a long sleep,
    // which never reaps it: the short one becomes a zombie when it ends. (It must outlive the
    // exec: a child that ends first may be reaped by sh itself.)
    const parent = spawn('/bin/sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    t.after(() => parent.kill('SIGKILL'));
    const zombiePid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      parent.on('error', reject);
    });
    let stat = readProcStat(zombiePid);
    for (let i = 0; i < 500 && stat?.state !== 'Z'; i++) {
      await new Promise((res) => setTimeout(res, 10));
      stat = readProcStat(zombiePid);
    }
    assert.equal(stat?.state, 'Z', 'the child became a zombie');
    assert.equal(deriveStatus(record({ pid: zombiePid, pidStartTime: stat.startTime, started: true }), false), 'stopped');
    assert.equal(deriveStatus(record({ pid: zombiePid, started: true }), false), 'stopped');
  });

  test('creating / stopped follow the record directory lock (flock)', async (t) => {
    const tmp = tempDir('berth-status-test-');
    t.after(() => tmp.remove());
    const store = new ContainerStore(tmp.path);
    const lock = await store.lockForCreate('c1');
    store.write(record());
    try {
      assert.equal(await isDirectoryLocked(store.dir('c1')), true);
      assert.equal(deriveStatus(store.read('c1')!, await isDirectoryLocked(store.dir('c1'))), 'creating');
    } finally {
      lock.release();
    }
    assert.equal(await isDirectoryLocked(store.dir('c1')), false);
    assert.equal(deriveStatus(store.read('c1')!, await isDirectoryLocked(store.dir('c1'))), 'stopped');
  });
});

describe('assertAllowed', () => {
  const statuses: ContainerStatus[] = ['creating', 'created', 'running', 'paused', 'stopped'];
  const table: Record<Operation, ContainerStatus[]> = {
    start: ['created'],
    kill: ['created', 'running', 'paused'],
    pause: ['running'],
    resume: ['paused'],
    exec: ['running'],
    ps: ['created', 'running', 'paused'],
    update: ['created', 'running', 'paused'],
    delete: ['created', 'stopped'],
    rollback: ['stopped'],
  };
  const advice: Partial<Record<Operation, string>> = {
    start: '; only a created container can be started',
    delete: '; stop it first or use delete --force',
    rollback: '; stop it first',
  };

  for (const [op, allowed] of Object.entries(table) as Array<[Operation, ContainerStatus[]]>) {
    test(op, () => {
      for (const status of statuses) {
        if (allowed.includes(status)) {
          assert.doesNotThrow(() => assertAllowed(op, 'c1', status), `${op} when ${status}`);
          continue;
        }
        assert.throws(
          () => assertAllowed(op, 'c1', status),
          (err: unknown) => {
            assert.ok(err instanceof ContainerStateError, `${op} when ${status}: ${String(err)}`);
            assert.equal(err.code, 'BERTH_ERR_STATE');
            // runc's "container not running", which containerd's shim reads as an exit already seen.
            const notRunning = status === 'stopped' && !advice[op] ? ' (container not running)' : '';
            assert.equal(err.message, `cannot ${op} container "c1": it is ${status}${advice[op] ?? notRunning}`);
            return true;
          },
        );
      }
    });
  }

  test('kill of a stopped container says "container not running", as runc does (containerd forgives it)', () => {
    assert.throws(() => assertAllowed('kill', 'c1', 'stopped'), /container not running/);
  });

  test('no operation is allowed while a create is in progress', () => {
    for (const op of Object.keys(table) as Operation[]) assert.throws(() => assertAllowed(op, 'c1', 'creating'), ContainerStateError);
  });
});

describe('status after a start whose record write was cut short', () => {
  test('an init that still runs the program it ran at create is created', () => {
    assert.equal(deriveStatus(record({ ...self, initExe: executableId(process.pid) }), false), 'created');
  });
  test('an init that runs another program than at create has been started: running, though started is unset', () => {
    assert.equal(deriveStatus(record({ ...self, initExe: '0:1' }), false), 'running');
  });
  test('a record without initExe (older berth) keeps its started mark as the truth', () => {
    assert.equal(deriveStatus(record({ ...self }), false), 'created');
  });
});
