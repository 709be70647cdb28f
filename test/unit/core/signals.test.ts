import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidSignalError } from '../../../src/core/errors.js';
import { parseSignal } from '../../../src/core/signals.js';

describe('parseSignal', () => {
  test('names in every spelling', () => {
    for (const input of ['TERM', 'SIGTERM', 'term', 'sigterm', 'SigTerm', ' TERM ', '15']) {
      assert.deepEqual(parseSignal(input), { number: 15, name: 'TERM' }, input);
    }
    assert.deepEqual(parseSignal('KILL'), { number: 9, name: 'KILL' });
    assert.deepEqual(parseSignal('9'), { number: 9, name: 'KILL' });
    assert.deepEqual(parseSignal('HUP'), { number: 1, name: 'HUP' });
    assert.deepEqual(parseSignal('usr1'), { number: 10, name: 'USR1' });
    assert.deepEqual(parseSignal('WINCH'), { number: 28, name: 'WINCH' });
    assert.deepEqual(parseSignal('31'), { number: 31, name: 'SYS' });
  });

  test('aliases get the canonical name', () => {
    assert.deepEqual(parseSignal('IOT'), { number: 6, name: 'ABRT' });
    assert.deepEqual(parseSignal('POLL'), { number: 29, name: 'IO' });
  });

  test('fallback when no signal is given', () => {
    assert.deepEqual(parseSignal(undefined), { number: 15, name: 'TERM' });
    assert.deepEqual(parseSignal(undefined, 'KILL'), { number: 9, name: 'KILL' });
    assert.deepEqual(parseSignal(undefined, 'SIGQUIT'), { number: 3, name: 'QUIT' });
  });

  test('real-time signals by number and by name', () => {
    assert.deepEqual(parseSignal('34'), { number: 34, name: 'RTMIN+0' });
    assert.deepEqual(parseSignal('37'), { number: 37, name: 'RTMIN+3' });
    assert.deepEqual(parseSignal('64'), { number: 64, name: 'RTMIN+30' });
    assert.deepEqual(parseSignal('RTMIN+3'), { number: 37, name: 'RTMIN+3' });
    assert.deepEqual(parseSignal('SIGRTMIN+3'), { number: 37, name: 'RTMIN+3' });
    assert.deepEqual(parseSignal('rtmax-1'), { number: 63, name: 'RTMAX-1' });
    assert.deepEqual(parseSignal('RTMAX-30'), { number: 34, name: 'RTMAX-30' });
  });

  test('unknown names and out-of-range numbers are InvalidSignalError', () => {
    const cases: Array<[string, string]> = [
      ['NOPE', 'unknown signal "NOPE"'],
      ['SIGNOPE', 'unknown signal "SIGNOPE"'],
      ['', 'unknown signal ""'],
      ['-9', 'unknown signal "-9"'],
      ['9x', 'unknown signal "9x"'],
      ['RTMIN+31', 'unknown signal "RTMIN+31"'],
      ['RTMAX-31', 'unknown signal "RTMAX-31"'],
      ['0', 'unknown signal 0'],
      ['32', 'unknown signal 32'],
      ['65', 'unknown signal 65'],
      ['99', 'unknown signal 99'],
    ];
    for (const [input, fragment] of cases) {
      assert.throws(
        () => parseSignal(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidSignalError, `${JSON.stringify(input)}: ${String(err)}`);
          assert.equal(err.code, 'BERTH_ERR_INVALID_SIGNAL');
          assert.ok(err.message.includes(fragment), `${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
          assert.ok(err.message.includes('TERM'), 'the message suggests a valid signal');
          return true;
        },
      );
    }
  });
});
