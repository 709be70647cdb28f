// berth image … as a user runs it (the real CLI, the dir driver in a temp dir): import, ls,
// inspect, rm, prune, exit codes, two imports at once; and the unpacked rootfs compared with what
// umoci and GNU tar make of the same image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openImageCache } from '../../src/images/index.js';
import { berthStateDir } from '../../src/core/state-root.js';
import { JournalReader } from '../../src/telemetry/journal.js';
import { berth } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { stateLeftovers } from '../helpers/image-suite.js';
import { buildOciLayout, busyboxLayerDir, type BuiltLayout, type TarEntrySpec } from '../helpers/oci-image.js';

const tmp = tempDir('berth-images-cli-');
after(() => tmp.remove());
const storageDir = join(tmp.path, 'storage');
const stateDir = join(tmp.path, 'state');
const config = join(tmp.path, 'config.toml');
writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${storageDir}"\nstate_dir = "${stateDir}"\n`);
const root = join(tmp.path, 'root');
const img = (...args: string[]) => berth(['--root', root, '--config', config, 'image', ...args]);

/** Special entries every unpacker must agree on. */
const SPECIAL: TarEntrySpec[] = [
  { name: 'srv/', type: 'directory', mode: 0o750, uid: 33, gid: 33 },
  { name: 'srv/owned', content: 'o', uid: 1234, gid: 5678, mode: 0o640 },
  { name: 'srv/setuid', content: '#!/bin/sh\n', mode: 0o4755 },
  { name: 'srv/setgid', content: '#!/bin/sh\n', mode: 0o2711 },
  { name: 'srv/sticky/', type: 'directory', mode: 0o1777 },
  { name: 'srv/hard', type: 'link', linkname: 'srv/owned' },
  { name: 'srv/rel', type: 'symlink', linkname: '../bin/busybox' },
  { name: 'srv/abs', type: 'symlink', linkname: '/etc/passwd' },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
  { name: 'srv/fifo', type: 'fifo', mode: 0o600 },
];

let busybox: BuiltLayout;

before(async () => {
  const rootfs = busyboxLayerDir(join(tmp.path, 'rootfs'));
  mkdirSync(join(tmp.path, 'bb'));
  busybox = await buildOciLayout(join(tmp.path, 'bb'), {
    images: [
      {
        tag: 'latest',
        layers: [
          { dir: rootfs, compression: 'gzip' },
          { entries: SPECIAL, compression: 'gzip' },
          { entries: [{ name: 'etc/.wh.group' }, { name: 'srv/.wh.setgid' }, { name: 'bin/.wh..wh..opq' }, { name: 'bin/sh', type: 'symlink', linkname: '/srv/rel' }], compression: 'gzip' },
        ],
      },
    ],
    tar: true,
  });
});

describe('berth image', { skip: missing('busybox') }, () => {
  test('import prints the digest; a second import is "already cached"; ls, inspect', async () => {
    let r = await img('import', busybox.tarFile!, '--name', 'bb:1');
    assert.equal(r.code, 0, r.stderr);
    const digest = busybox.manifests[0]!.digest;
    assert.match(r.stdout, new RegExp(`^imported ${digest} \\(bb:1\\) `));
    assert.equal(r.stderr, '', 'no progress display when stderr is not a terminal');
    r = await img('import', busybox.layout, '--name', 'bb:2');
    assert.match(r.stdout, new RegExp(`^already cached ${digest} \\(bb:1, bb:2\\)`));
    r = await img('ls');
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^REF\s+DIGEST\s+SIZE\s+CREATED\s+LAST USED\s+CONTAINERS\s+SOURCE\s+PULLED$/);
    // Imported, never pulled: the source says so.
    assert.match(lines[1]!, new RegExp(`^bb:1,bb:2\\s+${digest.slice(7, 19)}\\s+\\d+(\\.\\d)? (B|KiB|MiB)\\s+.* ago\\s+-\\s+0\\s+import\\s+-$`));
    const list = JSON.parse((await img('ls', '--format', 'json')).stdout) as Array<Record<string, unknown>>;
    assert.equal(list.length, 1);
    assert.equal(list[0]!.digest, digest);
    assert.equal(list[0]!.lastUsed, null);
    assert.equal(list[0]!.source, null);
    const inspect = JSON.parse((await img('inspect', 'bb:1')).stdout) as { digest: string; config: unknown };
    assert.equal(inspect.digest, digest);
    assert.deepEqual(inspect.config, { Cmd: ['sh'], Env: ['PATH=/bin'] });
  });

  test('exit codes: unknown image 4, image in use 5, bad layout 3, usage 2', async () => {
    let r = await img('inspect', 'nope:1');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /image "nope:1" is not in the cache \([^)]*\); import it with/);
    // Another tag of a cached repository: the message names what the cache has (issue 19).
    r = await img('inspect', 'bb:9');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /image "bb:9" is not in the cache \([^)]*\); the cache has bb:1, bb:2; import it with/);
    const cache = await openImageCache({ storage: { driver: 'dir', dir: storageDir }, stateDir });
    // A cached ref is one platform's image: another platform is not silently given it.
    const host = JSON.parse((await img('inspect', 'bb:1')).stdout).platform as { os: string; architecture: string };
    await assert.rejects(cache.createContainerVolume('bb:1', 'cli-other-platform', { platform: 'linux/s390x' }), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'BERTH_ERR_NOT_FOUND');
      assert.ok(err.message.includes(`image "bb:1" in the cache is ${host.os}/${host.architecture}, not linux/s390x`), err.message);
      return true;
    });
    assert.deepEqual((await cache.containerVolumes()).map((v) => v.id), [], 'nothing made for the refused platform');
    await cache.destroyContainerVolume('cli-matching-platform');
    await cache.createContainerVolume('bb:1', 'cli-matching-platform', { platform: `${host.os}/${host.architecture}` });
    await cache.destroyContainerVolume('cli-matching-platform');
    await cache.createContainerVolume('bb:1', 'cli-c1');
    r = await img('rm', 'bb:1');
    assert.equal(r.code, 5);
    assert.match(r.stderr, /used by container volumes: cli-c1/);
    const empty = join(tmp.path, 'empty');
    mkdirSync(empty);
    r = await img('import', empty);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /not an OCI image layout/);
    assert.equal((await img('frobnicate')).code, 2);
    assert.equal((await img('rm')).code, 2);
    assert.equal((await img('prune', '--max-size', 'lots')).code, 2);
    assert.equal((await img('ls', '--force')).code, 2, 'an option of another subcommand');
    r = await img('rm', 'bb:1', '--force');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^parked sha256:/);
    assert.match((await img('ls')).stdout, /<parked>/);
    await cache.destroyContainerVolume('cli-c1');
    assert.equal((await img('ls', '--format', 'json')).stdout.trim(), '[]');
  });

  test('image changes are operations of their own: journalled (so counted by berth serve) under image-import, image-rm …, and a failure\'s log line names that op', async () => {
    const records = new JournalReader(berthStateDir(root)).scan().records;
    const seen = (op: string, result: string) => records.some((r) => r.op === op && r.result === result);
    assert.ok(seen('image-import', 'ok'), JSON.stringify(records.map((r) => [r.op, r.result])));
    assert.ok(seen('image-import', 'error'), 'the import of an empty directory failed, and is counted as such');
    assert.ok(seen('image-rm', 'ok') && seen('image-rm', 'error'));
    assert.ok(!records.some((r) => r.op === 'image-ls' || r.op === 'image-inspect'), 'reads are not operations');
    const r = await berth(['--root', root, '--config', config, '--log-format', 'json', 'image', 'inspect', 'nope:2']);
    assert.equal(r.code, 4);
    const line = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { op: string; id: string; level: string };
    assert.deepEqual([line.level, line.op, line.id], ['error', 'image-inspect', 'nope:2']);
    // A misspelled subcommand gets the nearest ones.
    assert.match((await img('pul', 'x')).stderr, /unknown image subcommand "pul"; did you mean "pull"\?: use pull, push, import, ls, inspect, rm or prune/);
  });

  test('prune removes unused images and reports them', async () => {
    assert.equal((await img('import', busybox.layout, '--name', 'p:1')).code, 0);
    let r = await img('prune', '--older-than', '1h');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '0 images removed, 0 B freed\n', 'just imported: not older than an hour');
    r = await img('prune', '--max-size', '1');
    assert.match(r.stdout, /^removed sha256:\S+ p:1 /m);
    assert.match(r.stdout, /^1 image removed, \d+(\.\d)? (B|KiB|MiB) freed$/m);
    assert.deepEqual(stateLeftovers(stateDir), []);
  });

  test('two berth processes importing one image at the same time: one unpacks, the other finds it cached', async () => {
    const [a, b] = await Promise.all([img('import', busybox.tarFile!, '--name', 'c:1'), img('import', busybox.layout, '--name', 'c:2')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual([a.stdout.split(' ')[0], b.stdout.split(' ')[0]].sort(), ['already', 'imported']);
    assert.equal(readdirSync(join(storageDir, 'images')).length, 1);
    assert.equal((await img('rm', 'c:1')).code, 0);
    assert.deepEqual(readdirSync(join(storageDir, 'images')), []);
  });
});

/** path, type, mode, owner, size, link target, device of every entry; mtimes of non-directories. */
function listing(root: string): string {
  return execFileSync('find', ['.', '-printf', '%p %y %m %U:%G %s %l %D-%Y %TY%Tm%Td%TH%TM%TS\\n'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const parts = l.split(' ');
      // %D (the file system) differs; directories' sizes differ by file system; mtimes of
      // directories are compared on files only (umoci sets them too, but "." differs by tool).
      parts[6] = '';
      if (parts[1] === 'd') parts[4] = parts[7] = '';
      else parts[7] = parts[7]!.slice(0, 18); // to the millisecond (tar-stream hands out pax times as doubles)
      return parts.join(' ');
    })
    .sort()
    .join('\n');
}

describe('the unpacked rootfs matches umoci unpack and GNU tar', { skip: missing('umoci', 'busybox') }, () => {
  test('same paths, types, modes, owners, sizes, links, devices and file times', async () => {
    const cache = await openImageCache({ storage: { driver: 'dir', dir: storageDir }, stateDir });
    const r = await cache.import(busybox.layout);
    const ours = listing(join(storageDir, 'images', r.template, 'fs'));
    const bundle = join(tmp.path, 'umoci-bundle');
    execFileSync('umoci', ['unpack', '--image', `${busybox.layout}:latest`, bundle], { stdio: 'pipe' });
    const theirs = listing(join(bundle, 'rootfs'));
    assert.equal(ours, theirs);
    assert.ok(ours.includes('./srv/owned f 640 1234:5678 1'), 'owners kept');
    assert.ok(ours.includes('./dev/sda b 660 0:6'), 'block device kept');
    assert.ok(!ours.includes('./etc/group '), 'whiteout applied');
    assert.ok(/\.\/bin\/sh l 777 0:0 \d+ \/srv\/rel/.test(ours), 'opaque dir replaced by the upper layer');
    assert.ok(!/^\.\/bin\/busybox /m.test(ours), 'opaque dir emptied');

    // GNU tar on the first two layers only (it knows no whiteouts): the same as berth on them.
    const two = join(tmp.path, 'two');
    mkdirSync(two);
    const plain = await buildOciLayout(two, { images: [{ layers: [{ dir: join(tmp.path, 'rootfs'), compression: 'gzip' }, { entries: SPECIAL, compression: 'gzip' }] }] });
    const r2 = await cache.import(plain.layout);
    const tarRoot = join(tmp.path, 'tar-root');
    mkdirSync(tarRoot);
    for (const l of plain.layers[0]!) execFileSync('tar', ['-xzpf', plain.blobPath(l.digest), '-C', tarRoot, '--numeric-owner']);
    assert.equal(listing(join(storageDir, 'images', r2.template, 'fs')), listing(tarRoot));
    await cache.remove(r.digest);
    await cache.remove(r2.digest);
    assert.equal(existsSync(join(storageDir, 'images', r.template)), false);
  });

  test('a layout made by umoci (two tags, the second with a whiteout layer): PATH:TAG picks one, the result equals umoci unpack', async () => {
    const dir = join(tmp.path, 'umoci');
    mkdirSync(dir);
    const L = join(dir, 'L');
    const umoci = (...args: string[]) => execFileSync('umoci', args, { cwd: dir, stdio: 'pipe' });
    umoci('init', '--layout', L);
    umoci('new', '--image', `${L}:base`);
    umoci('unpack', '--image', `${L}:base`, 'B');
    execFileSync('cp', ['-a', `${join(tmp.path, 'rootfs')}/.`, join(dir, 'B/rootfs')]);
    umoci('repack', '--image', `${L}:base`, 'B');
    umoci('unpack', '--image', `${L}:base`, 'B2');
    execFileSync('rm', ['-r', join(dir, 'B2/rootfs/etc/group'), join(dir, 'B2/rootfs/root')]);
    writeFileSync(join(dir, 'B2/rootfs/new'), 'new\n');
    umoci('repack', '--image', `${L}:v2`, 'B2');

    let r = await img('import', L);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /holds 2 images for linux\/amd64: .*"base".*"v2"; name one with PATH:TAG/);
    r = await img('import', `${L}:nope`);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /has no image tagged "nope" \(tags: base, v2\)/);
    r = await img('import', `${L}:v2`, '--name', 'umoci:v2');
    assert.equal(r.code, 0, r.stderr);
    const rec = JSON.parse((await img('inspect', 'umoci:v2')).stdout) as { template: string; digest: string };
    const ours = listing(join(storageDir, 'images', rec.template, 'fs'));
    umoci('unpack', '--image', `${L}:v2`, 'U');
    assert.equal(ours, listing(join(dir, 'U/rootfs')));
    assert.ok(!/^\.\/etc\/group /m.test(ours) && !/^\.\/root /m.test(ours), "umoci's whiteouts applied");
    assert.ok(/^\.\/new f /m.test(ours));
    assert.equal((await img('rm', 'umoci:v2')).code, 0);
  });
});
