// packRootfs: the tarball a Proxmox template is made from. An image's declared volumes are added
// as directories without writing into the rootfs (it may be an image's read-only template), and
// never outside it, whatever its symlinks say.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { packRootfs } from '../../../../src/backends/pve/templates.js';
import { tempDir } from '../../../helpers/bundle.js';
import { missing } from '../../../helpers/host.js';

const dirs = tempDir('berth-pack-');
after(() => dirs.remove());

function entries(tarball: string): string[] {
  return execFileSync('tar', ['--list', '--file', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

test('declared volumes become directories in the tarball, not in the rootfs; existing paths and symlinks are respected', { skip: missing('tar') }, async () => {
  const rootfs = join(dirs.path, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  mkdirSync(join(rootfs, 'srv'));
  writeFileSync(join(rootfs, 'etc/hostname'), 'x\n');
  symlinkSync('/srv', join(rootfs, 'lnk')); // absolute: resolved inside the rootfs, not the host's /srv
  const tarball = await packRootfs(rootfs, join(dirs.path, 'work'), ['/data', '/etc', '/lnk/cache', '/../../escape', '/var/lib/db']);
  const list = entries(tarball);
  for (const e of ['./', './etc/hostname', './lnk', './data/', './srv/cache/', './escape/', './var/lib/db/']) assert.ok(list.includes(e), `${e} in ${list.join(' ')}`);
  assert.equal(list.filter((e) => e === './etc/').length, 1, 'an existing directory is not added again');
  assert.deepEqual(readdirSync(rootfs).sort(), ['etc', 'lnk', 'srv'], 'nothing written into the rootfs');
  assert.deepEqual(readdirSync(join(rootfs, 'srv')), []);
  assert.equal(existsSync(join(dirname(dirs.path), 'escape')), false);
});

test('without volumes: the rootfs as it is', { skip: missing('tar') }, async () => {
  const rootfs = join(dirs.path, 'plain');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  const tarball = await packRootfs(rootfs, join(dirs.path, 'work'));
  assert.deepEqual(entries(tarball).sort(), ['./', './bin/']);
});
