import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteCount, readRegularFile } from '../../../src/core/regular-file.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-regular-file-test-');
after(() => tmp.remove());

describe('readRegularFile', () => {
  test('a regular file within the limit is read whole', () => {
    const f = join(tmp.path, 'ok');
    writeFileSync(f, 'käse\n');
    assert.deepEqual(readRegularFile(f, 100), { ok: true, text: 'käse\n' });
    // Exactly at the limit is fine; one byte over is not.
    assert.equal(readRegularFile(f, 6).ok, true);
    const over = readRegularFile(f, 5);
    assert.equal(over.ok, false);
    assert.equal(!over.ok && over.problem, 'too-large');
    assert.equal(!over.ok && over.why, 'is 6 bytes, over the limit of 5 bytes');
  });

  test('a FIFO, a device and a directory are refused without reading (a FIFO would block)', () => {
    const fifo = join(tmp.path, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const dir = join(tmp.path, 'dir');
    mkdirSync(dir);
    for (const [path, kind] of [[fifo, 'a FIFO (named pipe)'], ['/dev/zero', 'a character device'], [dir, 'a directory']] as const) {
      const r = readRegularFile(path, 1024);
      assert.deepEqual(r, { ok: false, problem: 'not-regular', why: `is ${kind}, not a regular file` }, path);
    }
  });

  test('a missing file says so', () => {
    const r = readRegularFile(join(tmp.path, 'nope'), 10);
    assert.equal(!r.ok && r.problem, 'missing');
  });

  test('byteCount', () => {
    assert.equal(byteCount(4 * 1024 * 1024), '4 MiB');
    assert.equal(byteCount(512 * 1024), '512 KiB');
    assert.equal(byteCount(1000), '1000 bytes');
  });
});
