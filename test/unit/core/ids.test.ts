import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidIdError } from '../../../src/core/errors.js';
import { MAX_ID_BYTES, validateContainerId } from '../../../src/core/ids.js';

function rejects(id: string | undefined, fragment: string | RegExp): void {
  assert.throws(
    () => validateContainerId(id),
    (err: unknown) => {
      assert.ok(err instanceof InvalidIdError, `expected InvalidIdError for ${JSON.stringify(id)}, got ${String(err)}`);
      assert.equal(err.code, 'BERTH_ERR_INVALID_ID');
      if (typeof fragment === 'string') assert.ok(err.message.includes(fragment), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
      else assert.match(err.message, fragment);
      // The message ends up as one line on stderr: an id must not be able to break it.
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(err.message, /[\x00-\x1f\x7f]/, `message of ${JSON.stringify(id)} contains a control character`);
      return true;
    },
  );
}

describe('validateContainerId', () => {
  test('accepts ordinary ids and returns them unchanged', () => {
    for (const id of ['a', 'web-1', 'Web_1.2', 'x'.repeat(64), 'a.b', 'a-', 'café', '容器', '0', 'a:b', 'a@b', 'k8s_POD_x_y_0']) {
      assert.equal(validateContainerId(id), id);
    }
  });

  test('accepts exactly MAX_ID_BYTES bytes, rejects one more', () => {
    assert.equal(MAX_ID_BYTES, 255);
    const max = 'x'.repeat(MAX_ID_BYTES);
    assert.equal(validateContainerId(max), max);
    rejects('x'.repeat(MAX_ID_BYTES + 1), `container id is ${MAX_ID_BYTES + 1} bytes long; the limit is ${MAX_ID_BYTES}`);
  });

  test('counts bytes, not characters', () => {
    const euros = '€'.repeat(86); // 86 characters, 258 bytes
    assert.ok(euros.length < MAX_ID_BYTES);
    rejects(euros, 'container id is 258 bytes long');
  });

  test('rejects empty and missing ids', () => {
    rejects('', 'container id must not be empty');
    rejects(undefined, 'container id must not be empty');
  });

  test('rejects path separators and traversal', () => {
    rejects('a/b', 'must not contain "/"');
    rejects('/abs', 'must not contain "/"');
    rejects('../x', 'must not contain "/"');
    rejects('..', 'must not contain ".."');
    rejects('a..b', 'must not contain ".."');
    rejects('.', 'must not contain ".."');
  });

  test('rejects a leading dot or dash', () => {
    rejects('.hidden', 'must not start with "."');
    rejects('-rf', 'must not start with "-"');
    rejects('--help', 'must not start with "-"');
  });

  test('rejects whitespace and control characters', () => {
    for (const id of ['a b', ' a', 'a ', 'a\tb', 'a\nb', 'a\rb', 'a\x00b', 'a\x01b', 'a\x1bb', 'a\x7fb', 'a\u00a0b']) {
      rejects(id, 'must not contain whitespace or control characters');
    }
  });

  test('a message never carries a raw control character of the id', () => {
    // These ids fail an earlier check than the control-character one.
    rejects('a/\nberth: forged', 'must not contain "/"');
    rejects('a..\nb', 'must not contain ".."');
    rejects('-\nx', 'must not start with "-"');
  });
});
