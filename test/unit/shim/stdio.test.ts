// A task's FIFOs open without waiting for containerd's side, and a write never fails with EPIPE
// when nobody reads; log URIs are refused with a clear error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UnsupportedError } from '../../../src/core/errors.js';
import { openStdio } from '../../../src/shim/stdio.js';
import { tempDir } from '../../helpers/bundle.js';

test('FIFOs with no reader or writer open at once; writes succeed without a reader; empty is /dev/null', (t) => {
  const dir = tempDir('berth-shim-stdio-');
  t.after(() => dir.remove());
  const [stdin, stdout] = [join(dir.path, 'in'), join(dir.path, 'out')];
  execFileSync('mkfifo', [stdin, stdout]);
  const io = openStdio({ stdin, stdout, stderr: '' });
  try {
    assert.equal(writeSync(io.fds.stdout, 'no reader\n'), 10, 'no EPIPE: the fd is a reader itself');
    assert.equal(writeSync(io.fds.stderr, 'dropped\n'), 8);
    const flags = parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${io.fds.stdin}`, 'utf8'))![1]!, 8);
    assert.equal(flags & 0o4000, 0, 'stdin is blocking (O_NONBLOCK cleared after the open)');
  } finally {
    io.close();
  }
  assert.throws(() => closeSync(io.fds.stdout), /EBADF/, 'close() closed the engine\'s copies');
});

test('log URIs are refused, naming the stream', () => {
  assert.throws(() => openStdio({ stdin: '', stdout: 'binary:///usr/bin/logger?x=1', stderr: '' }), (err: unknown) => err instanceof UnsupportedError && /stdout "binary:\/\/\/usr\/bin\/logger\?x=1": the berth shim takes FIFO paths only/.test(err.message));
});
