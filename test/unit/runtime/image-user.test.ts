// runtime/image-user: user specs resolved against the image's own passwd and group files.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveImageUser } from '../../../src/runtime/image-user.js';
import { tempDir } from '../../helpers/bundle.js';

function rootfs(): { path: string; remove: () => void } {
  const d = tempDir();
  mkdirSync(join(d.path, 'etc'));
  writeFileSync(join(d.path, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n# comment\nbroken:line\n');
  writeFileSync(join(d.path, 'etc/group'), 'root:x:0:\nwww:x:33:\nadm:x:4:www,other\nstaff:x:50:www\n');
  return d;
}

test('empty or missing User is root', (t) => {
  const d = rootfs();
  t.after(d.remove);
  assert.deepEqual(resolveImageUser(d.path, undefined), { uid: 0, gid: 0, additionalGids: [], name: 'root' });
  assert.deepEqual(resolveImageUser(d.path, ''), { uid: 0, gid: 0, additionalGids: [], name: 'root' });
});

test('a name gets its uid, primary gid and supplementary groups', (t) => {
  const d = rootfs();
  t.after(d.remove);
  assert.deepEqual(resolveImageUser(d.path, 'www'), { uid: 33, gid: 33, additionalGids: [4, 50], name: 'www' });
  assert.deepEqual(resolveImageUser(d.path, '33'), { uid: 33, gid: 33, additionalGids: [4, 50], name: 'www' });
});

test('an explicit group replaces the supplementary groups; numbers need no passwd entry', (t) => {
  const d = rootfs();
  t.after(d.remove);
  assert.deepEqual(resolveImageUser(d.path, 'www:adm'), { uid: 33, gid: 4, additionalGids: [], name: 'www' });
  assert.deepEqual(resolveImageUser(d.path, '1000:1000'), { uid: 1000, gid: 1000, additionalGids: [], name: undefined });
  assert.deepEqual(resolveImageUser(d.path, '1000'), { uid: 1000, gid: 0, additionalGids: [], name: undefined });
});

test('unknown names and malformed specs are errors naming them', (t) => {
  const d = rootfs();
  t.after(d.remove);
  assert.throws(() => resolveImageUser(d.path, 'nobody'), /user "nobody" is not in the image's \/etc\/passwd/);
  assert.throws(() => resolveImageUser(d.path, 'www:nogroup'), /group "nogroup" is not in the image's \/etc\/group/);
  assert.throws(() => resolveImageUser(d.path, 'a:b:c'), /not of the form/);
  assert.throws(() => resolveImageUser(d.path, ':0'), /not of the form/);
  assert.throws(() => resolveImageUser(d.path, '4294967295'), /out of range/);
});

test("an image's /etc/passwd symlinked to the host's is read inside the image", (t) => {
  const d = tempDir();
  t.after(d.remove);
  mkdirSync(join(d.path, 'etc'));
  symlinkSync('/etc/passwd', join(d.path, 'etc/passwd.link'));
  symlinkSync('/etc/passwd.link', join(d.path, 'etc/group'));
  // No passwd in the image: a name cannot be found, even though the host has root.
  assert.throws(() => resolveImageUser(d.path, 'root'), /not in the image's \/etc\/passwd/);
});
