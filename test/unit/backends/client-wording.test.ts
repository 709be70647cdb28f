import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inClientWords } from '../../../src/backends/oci-cli/client-wording.js';

describe("crun's errors in the words clients match", () => {
  test('a missing command reads as runc says it (Docker and Podman then exit 127)', () => {
    const said = inClientWords('executable file `nosuchcmd` not found in $PATH: No such file or directory');
    assert.equal(said, 'exec: "nosuchcmd": executable file not found in $PATH');
    assert.match(said, /executable file not found/);
  });
  test('a missing path reads as runc says it: stat, no such file or directory (containerd and Docker match it)', () => {
    const said = inClientWords('crun create failed: executable file `/nonexistent-binary` not found in $PATH: No such file or directory');
    assert.equal(said, 'crun create failed: exec: "/nonexistent-binary": stat /nonexistent-binary: no such file or directory');
  });
  test('a command that may not be executed says "permission denied" in lower case (exit 126)', () => {
    assert.match(inClientWords('open executable: Permission denied'), /permission denied/);
  });
  test('every other message passes unchanged', () => {
    for (const m of ['', 'mount `/proc`: Operation not permitted', 'container `x` does not exist']) assert.equal(inClientWords(m), m);
  });
});
