// The libcrun worker itself: started from a sealed copy (so libcrun does not re-execute it), with
// berth's stdio, state JSON identical to `crun state`, and libcrun's errors (status and message)
// reaching the caller.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readlinkSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { detectLibcrun } from '../../src/backends/libcrun/detect.js';
import { LibcrunCallError, startDriver, type LibcrunDriver } from '../../src/backends/libcrun/driver.js';
import { libcrunState } from '../../src/backends/libcrun/libcrun-backend.js';
import { CRUN_MEMFD_SEALS } from '../../src/backends/libcrun/sealed-node.js';
import { readProcStat } from '../../src/core/proc.js';
import { BackendUnavailableError } from '../../src/core/errors.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { LIBCRUN_SO, libcrunMissing, missing } from '../helpers/host.js';
import { waitFor } from '../helpers/wait.js';

describe('libcrun worker', { skip: missing('crun', 'busybox') ?? libcrunMissing() }, () => {
  const tmp = tempDir('berth-libcrun-');
  const stateRoot = join(tmp.path, 'state');
  let driver: LibcrunDriver;
  let bundle: string;

  before(async () => {
    const found = detectLibcrun({ env: { BERTH_LIBCRUN: LIBCRUN_SO }, configPath: undefined }).found;
    assert.ok(found, 'the built libcrun is usable');
    driver = await startDriver(found);
    bundle = makeBusyboxBundle(join(tmp.path, 'b'), { args: ['sleep', '300'] });
  });
  after(() => {
    try {
      execFileSync('crun', ['--root', stateRoot, 'delete', '--force', 'w1'], { stdio: 'ignore' });
    } catch {
      // not there: nothing to clean
    }
    driver?.close();
    tmp.remove();
  });

  test('a library that does not load in the worker: load failed, with the loader\'s words', async () => {
    const textSo = join(tmp.path, 'libcrun.so');
    writeFileSync(textSo, 'not a library\n');
    const found = detectLibcrun({ env: { BERTH_LIBCRUN: LIBCRUN_SO }, configPath: undefined }).found!;
    await assert.rejects(startDriver({ ...found, path: textSo }), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError, String(err));
      assert.match(err.message, /^backend crun-abi is not usable: load failed: .*libcrun\.so/);
      return true;
    });
  });

  test('runs from a sealed memfd copy of node, once, with berth\'s stdio', () => {
    assert.match(readlinkSync(`/proc/${driver.pid}/exe`), /^\/memfd:berth-libcrun-node/);
    // The same process that said it was ready: libcrun's constructor did not re-execute it
    // (a re-exec keeps the pid but would show crun's own memfd name).
    assert.doesNotMatch(readlinkSync(`/proc/${driver.pid}/exe`), /crun_cloned/);
    for (const fd of [1, 2]) assert.equal(readlinkSync(`/proc/${driver.pid}/fd/${fd}`), readlinkSync(`/proc/self/fd/${fd}`), `fd ${fd} is berth's`);
    assert.equal(CRUN_MEMFD_SEALS, 0xf);
  });

  test('create, state (the same JSON as crun state), start, kill, delete through the library', async () => {
    const pidFile = join(tmp.path, 'w1.pid');
    await driver.call('create', { stateRoot, id: 'w1', bundle, config: join(bundle, 'config.json'), pidFile });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const viaLib = JSON.parse(await libcrunState(driver, stateRoot, 'w1')) as Record<string, unknown>;
    const viaCli = JSON.parse(execFileSync('crun', ['--root', stateRoot, 'state', 'w1'], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.deepEqual(viaLib, viaCli);
    assert.equal(viaLib.status, 'created');
    assert.equal(viaLib.pid, pid);
    await driver.call('start', { stateRoot, id: 'w1' });
    assert.equal(JSON.parse(await libcrunState(driver, stateRoot, 'w1')).status, 'running');
    await driver.call('adopt', { pid });
    await driver.call('kill', { stateRoot, id: 'w1', signal: 'KILL', all: false });
    // The init is the worker's child: it stays a zombie until the worker reaps it on delete.
    await waitFor('the init to die', () => readProcStat(pid)?.state === 'Z');
    await driver.call('delete', { stateRoot, id: 'w1', force: false });
    assert.equal(readProcStat(pid), undefined, 'reaped: no zombie left behind in a long-lived worker');
    assert.equal(execFileSync('crun', ['--root', stateRoot, 'list', '-q'], { encoding: 'utf8' }), '');
  });

  test("libcrun's error status and message reach the caller, every time", async () => {
    for (let i = 0; i < 50; i++) {
      await assert.rejects(driver.call('start', { stateRoot, id: 'nosuch' }), (err: unknown) => {
        assert.ok(err instanceof LibcrunCallError, String(err));
        assert.equal(err.status, 2, 'ENOENT');
        assert.match(err.libcrunMsg, /nosuch/);
        assert.equal(err.message, `${err.libcrunMsg}: No such file or directory`);
        return true;
      });
    }
    await assert.rejects(driver.call('kill', { stateRoot, id: 'nosuch', signal: '9', all: false }), (err: unknown) => err instanceof LibcrunCallError && err.status === 2);
  });
});
