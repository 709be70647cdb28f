// core/path-in-root: symlinks resolve as if chrooted, never onto the host.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveInRoot } from '../../../src/core/path-in-root.js';
import { tempDir } from '../../helpers/bundle.js';

test('plain paths, dot-dot at the root and missing components stay inside the root', (t) => {
  const d = tempDir();
  t.after(d.remove);
  mkdirSync(join(d.path, 'etc'));
  assert.equal(resolveInRoot(d.path, '/etc/passwd'), join(d.path, 'etc/passwd'));
  assert.equal(resolveInRoot(d.path, '/../../etc/./passwd'), join(d.path, 'etc/passwd'));
  assert.equal(resolveInRoot(d.path, 'no/such/dir'), join(d.path, 'no/such/dir'));
});

test('absolute and relative symlinks are taken relative to the root', (t) => {
  const d = tempDir();
  t.after(d.remove);
  mkdirSync(join(d.path, 'real/etc'), { recursive: true });
  writeFileSync(join(d.path, 'real/etc/passwd'), '');
  symlinkSync('/real/etc', join(d.path, 'etc')); // absolute: would be the host's /real/etc
  assert.equal(resolveInRoot(d.path, '/etc/passwd'), join(d.path, 'real/etc/passwd'));
  symlinkSync('../../../../../../etc', join(d.path, 'real/up'));
  assert.equal(resolveInRoot(d.path, '/real/up/passwd'), join(d.path, 'real/etc/passwd'));
  symlinkSync('/', join(d.path, 'hostroot'));
  assert.equal(resolveInRoot(d.path, '/hostroot/etc/shadow'), join(d.path, 'real/etc/shadow'));
});

test('a symlink loop is an error, not a hang', (t) => {
  const d = tempDir();
  t.after(d.remove);
  symlinkSync('/b', join(d.path, 'a'));
  symlinkSync('/a', join(d.path, 'b'));
  assert.throws(() => resolveInRoot(d.path, '/a/x'), /too many symbolic links/);
});
