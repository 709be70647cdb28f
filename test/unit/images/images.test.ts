// The images layer's pure parts: digests, the tar member index, platforms, media types, the
// config summary and its storage properties, the per-digest lock, container volume names, and
// the CLI's size and duration parsing; plus core/exec's toolStream with a real tool.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { parseDuration, parseSize } from '../../../src/cli/units.js';
import { ImageError, InvalidArgumentError, ToolError } from '../../../src/core/errors.js';
import { toolStream } from '../../../src/core/exec.js';
import { configFromProperties, configToProperties, summarizeConfig } from '../../../src/images/config-summary.js';
import { DigestVerifier, parseDigest, sha256Hex } from '../../../src/images/digest.js';
import { ImageIndex } from '../../../src/images/image-index.js';
import { openImageCache, validateRef } from '../../../src/images/index.js';
import { validateVolumeName } from '../../../src/storage/driver.js';
import { layerCompression } from '../../../src/images/media-types.js';
import { splitSource } from '../../../src/images/oci-layout.js';
import { parsePlatform, platformMatches } from '../../../src/images/platform.js';
import { indexTar } from '../../../src/images/tar-index.js';
import { UsageError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/bundle.js';

describe('digests', () => {
  test('parsed strictly: algorithm and hex length', () => {
    assert.deepEqual(parseDigest('sha256:' + 'a'.repeat(64), 'x'), { algorithm: 'sha256', hex: 'a'.repeat(64) });
    assert.equal(parseDigest('sha512:' + 'b'.repeat(128), 'x').algorithm, 'sha512');
    for (const bad of ['sha256:' + 'a'.repeat(63), 'sha256:' + 'A'.repeat(64), 'md5:' + 'a'.repeat(32), 'sha256:../../etc', undefined, 42]) {
      assert.throws(() => parseDigest(bad, 'blob'), ImageError, String(bad));
    }
  });

  const through = (data: Buffer, digest: string, size: number | undefined) => buffer(Readable.from([data.subarray(0, 3), data.subarray(3)]).pipe(new DigestVerifier(digest, size, 'blob x')));

  test('the verifier passes matching content through, and refuses a wrong digest, a short or a long blob', async () => {
    const data = Buffer.from('hello world');
    const digest = 'sha256:' + sha256Hex(data);
    assert.deepEqual(await through(data, digest, data.length), data);
    await assert.rejects(through(data, 'sha256:' + '0'.repeat(64), data.length), /digest mismatch/);
    await assert.rejects(through(data, digest, data.length + 1), /11 bytes instead of the 12/);
    await assert.rejects(through(data, digest, 5), /more than the 5 bytes/);
  });
});

describe('tar member index', () => {
  test('finds members by name (./ or not, GNU long names) with their data offsets, reading headers only', (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    const src = join(tmp.path, 'src');
    const long = 'd'.repeat(120);
    mkdirSync(join(src, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(src, 'index.json'), '{"a":1}');
    writeFileSync(join(src, 'blobs/sha256', long), 'x'.repeat(1000));
    writeFileSync(join(src, 'empty'), '');
    const file = join(tmp.path, 'a.tar');
    execFileSync('tar', ['-C', src, '--format=gnu', '-cf', file, '.']);
    const m = indexTar(file);
    assert.equal(m.get('index.json')?.size, 7);
    assert.equal(m.get(`blobs/sha256/${long}`)?.size, 1000);
    assert.equal(m.get('empty')?.size, 0);
    const pax = join(tmp.path, 'p.tar');
    execFileSync('tar', ['-C', src, '--format=pax', '-cf', pax, 'blobs']);
    assert.equal(indexTar(pax).get(`blobs/sha256/${long}`)?.size, 1000, 'pax path records');
    writeFileSync(join(tmp.path, 'junk'), Buffer.alloc(1024, 65));
    assert.throws(() => indexTar(join(tmp.path, 'junk')), /not a tar archive/);
  });
});

describe('platforms and media types', () => {
  test('os/arch[/variant]; a wanted platform without variant matches any', () => {
    assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.equal(parsePlatform(undefined).os, 'linux');
    for (const bad of ['linux', 'linux/', 'a/b/c/d', 'Linux/AMD64']) assert.throws(() => parsePlatform(bad), InvalidArgumentError, bad);
    assert.equal(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, parsePlatform('linux/arm64')), true);
    assert.equal(platformMatches({ os: 'linux', architecture: 'arm64' }, parsePlatform('linux/arm64/v8')), false);
  });

  test('layer media types: OCI and Docker, each compression; unknown ones refused by name', () => {
    assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd', 'd'), 'zstd');
    assert.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip', 'd'), 'gzip');
    assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar', 'd'), 'none');
    assert.throws(() => layerCompression('application/vnd.oci.image.layer.v1.tar+bzip2', 'sha256:x'), /sha256:x has an unknown media type "application\/vnd.oci.image.layer.v1.tar\+bzip2"/);
  });
});

describe('image sources', () => {
  test('PATH:TAG is split only when PATH:TAG itself does not exist', (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    assert.deepEqual(splitSource('/x/layout:v2'), { path: '/x/layout', tag: 'v2' });
    assert.deepEqual(splitSource('/x/layout'), { path: '/x/layout', tag: undefined });
    assert.deepEqual(splitSource('/x/a:b/layout'), { path: '/x/a:b/layout', tag: undefined }, 'a colon in a directory name');
    const odd = join(tmp.path, 'odd:name');
    mkdirSync(odd);
    assert.deepEqual(splitSource(odd), { path: odd, tag: undefined });
  });
});

describe('config summary', () => {
  test('keeps the known fields of the right types only', () => {
    assert.deepEqual(summarizeConfig({ Cmd: ['sh'], Entrypoint: 'not-a-list', Env: ['A=1'], User: '', WorkingDir: '/w', Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, Other: 1 }), {
      Cmd: ['sh'],
      Env: ['A=1'],
      WorkingDir: '/w',
      Labels: { a: 'b' },
      ExposedPorts: { '80/tcp': {} },
    });
  });

  test('round-trips through storage properties of at most 1024 bytes each', () => {
    const summary = { Cmd: ['x'], Labels: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`label.${i}`, 'ünïcödé value '.repeat(3)])) };
    const props = configToProperties(summary);
    assert.ok(Object.keys(props).length > 3);
    for (const v of Object.values(props)) assert.ok(Buffer.byteLength(v) <= 1024);
    assert.deepEqual(configFromProperties(props), summary);
    assert.equal(configFromProperties({}), undefined);
  });
});

describe('names', () => {
  test('image refs: no commas or spaces, not digest-like', () => {
    assert.equal(validateRef('localhost/busybox:1.36'), 'localhost/busybox:1.36');
    for (const bad of ['a,b', 'a b', '', '-x', 'abcdef0123456789', 'sha256:abcdef012345']) assert.throws(() => validateRef(bad), InvalidArgumentError, bad);
  });

  test('container volume names carry the state root id: unique per root, within the storage name rules for ids up to the limit', async (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    const cache = await openImageCache({ storage: { driver: 'dir', dir: join(tmp.path, 's') }, stateDir: join(tmp.path, 'state') });
    const a = '0123456789';
    const b = 'abcdefabcd';
    assert.equal(cache.containerVolumeName('c1', a), '0123456789-c1');
    assert.notEqual(cache.containerVolumeName('c1', a), cache.containerVolumeName('c1', b), 'the same id in two roots: two names');
    assert.notEqual(cache.containerVolumeName('c1', a), cache.containerVolumeName('c1'), 'and neither is the 0.8.0 name');
    const ids = ['a+b', 'é'.repeat(127), 'x'.repeat(255), 'y'.repeat(189), 'y'.repeat(190), '_x', 'a:b.c_d-e'];
    const names = new Set<string>();
    for (const id of ids) {
      const name = cache.containerVolumeName(id, a);
      assert.doesNotThrow(() => validateVolumeName(name), id);
      assert.ok(name.startsWith(`${a}-`), name);
      names.add(name);
    }
    assert.equal(names.size, ids.length, 'distinct ids, distinct names');
    assert.equal(cache.containerVolumeName('y'.repeat(189), a), `${a}-${'y'.repeat(189)}`, '200 bytes fit whole');
    assert.match(cache.containerVolumeName('y'.repeat(190), a), new RegExp(`^${a}-y{48}_[a-f0-9]{16}$`), 'longer: mapped');
    assert.throws(() => cache.containerVolumeName('c1', '../x'), InvalidArgumentError);
  });

  test('container volume names: ids storage accepts are kept; others mapped to a readable prefix and a hash', async (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    const cache = await openImageCache({ storage: { driver: 'dir', dir: join(tmp.path, 's') }, stateDir: join(tmp.path, 'state') });
    assert.equal(cache.containerVolumeName('web-1'), 'web-1');
    const mapped = cache.containerVolumeName('a+b');
    assert.match(mapped, /^a-b_[a-f0-9]{16}$/);
    assert.notEqual(cache.containerVolumeName('a=b'), mapped, 'different ids, different names');
    assert.equal(cache.containerVolumeName('a+b'), mapped, 'stable');
    assert.match(cache.containerVolumeName('x'.repeat(250)), /^x{48}_[a-f0-9]{16}$/);
  });
});

describe('per-digest locks', () => {
  test('serialize holders of one digest, not of others, and leave no lock directory behind', async (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    const index = new ImageIndex(tmp.path);
    const d = 'sha256:' + 'a'.repeat(64);
    const order: string[] = [];
    const hold = (name: string, digest: string, ms: number) =>
      index.withDigestLock(digest, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name}-`);
      });
    await Promise.all([hold('a', d, 50), hold('b', d, 10), hold('c', 'sha256:' + 'b'.repeat(64), 5)]);
    assert.ok(order.indexOf('a-') < order.indexOf('b+') || order.indexOf('b-') < order.indexOf('a+'), `a and b never overlap: ${order.join(' ')}`);
    assert.ok(order.indexOf('c+') < Math.max(order.indexOf('a-'), order.indexOf('b-')), 'another digest does not wait');
    assert.deepEqual(readdirSync(join(tmp.path, 'images/locks')), []);
  });
});

describe('cli sizes and durations', () => {
  test('sizes in bytes with binary units; durations combined', () => {
    assert.equal(parseSize('1234', 'x'), 1234);
    assert.equal(parseSize('500M', 'x'), 500 * 1024 ** 2);
    assert.equal(parseSize('1.5GiB', 'x'), 1.5 * 1024 ** 3);
    assert.throws(() => parseSize('lots', 'max-size'), UsageError);
    assert.equal(parseDuration('1h30m', 'x'), 90 * 60_000);
    assert.equal(parseDuration('7d', 'x'), 7 * 86_400_000);
    for (const bad of ['', '5', '1y', 'h']) assert.throws(() => parseDuration(bad, 'older-than'), UsageError, bad);
  });
});

describe('toolStream', () => {
  test('a tool as a stream stage: zstd compresses and decompresses; a failing tool fails the stream with its stderr', async () => {
    const data = Buffer.from('berth '.repeat(10_000));
    const packed = await buffer(Readable.from([data]).pipe(toolStream(['zstd', '-q', '-c'])));
    assert.ok(packed.length < data.length / 10);
    const chunks: Buffer[] = [];
    await pipeline(Readable.from([packed]), toolStream(['zstd', '-d', '-c', '-q']), async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) chunks.push(c);
    });
    assert.deepEqual(Buffer.concat(chunks), data);
    await assert.rejects(
      pipeline(Readable.from([data]), toolStream(['zstd', '-d', '-c', '-q']), async (src: AsyncIterable<Buffer>) => {
        for await (const _ of src) void _;
      }),
      (err: unknown) => err instanceof ToolError && /zstd exited 1/.test(err.message),
    );
  });
});
