import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inClientWords } from '../../../src/backends/oci-cli/client-wording.js';

describe("crun's errors in the words clients match", () => {
  test('a missing command reads as runc says it (Docker and Podman then exit 127)', () => {
    const said = inClientWords('executable file `nosuchcmd` not found in $PATH: No such file or directory');
    assert.equal(said, 'exec: "nosuchcmd": executable file not found in $PATH');
    assert.match(said, /executable file not found/);
  });
  test('a command that may not be executed says "permission denied" in lower case (exit 126)', () => {
    assert.match(inClientWords('open executable: Permission denied'), /permission denied/);
  });
  test('every other message passes unchanged', () => {
    for (const m of ['', 'mount `/proc`: Operation not permitted', 'container `x` does not exist']) assert.equal(inClientWords(m), m);
  });
});
