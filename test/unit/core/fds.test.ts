import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { assertFdsOpen } from '../../../src/core/fds.js';
import { InvalidArgumentError } from '../../../src/core/errors.js';

/** The first descriptor above 2 that this process has not open. */
function firstClosed(): number {
  for (let fd = 3; ; fd++) {
    try {
      fstatSync(fd);
    } catch {
      return fd;
    }
  }
}

describe('assertFdsOpen', () => {
  test('0 asks for nothing', () => {
    assertFdsOpen(0);
  });

  test('descriptors that are open pass', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      // Node holds some descriptors of its own from 3 up; all below the first closed one are open.
      assertFdsOpen(firstClosed() - 3);
    } finally {
      closeSync(fd);
    }
  });

  test('a count past the open descriptors names the first one missing (0.8.0: "spawn EBADF")', () => {
    const closed = firstClosed();
    assert.throws(
      () => assertFdsOpen(100000),
      (err: unknown) =>
        err instanceof InvalidArgumentError &&
        err.message === `--preserve-fds 100000 asks for descriptors 3 … 100002, but descriptor ${closed} is not open in berth (3 … ${closed - 1} are open); pass only as many descriptors as berth was given after stdio`,
    );
  });
});
