import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InvalidBundleError } from '../../../src/core/errors.js';
import { loadBundle } from '../../../src/runtime/bundle.js';
import { busyboxConfig, tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-bundle-test-');
after(() => tmp.remove());

let n = 0;
/** A bundle directory with an empty rootfs/ and the given config.json content. */
function bundle(config: string | ((c: Record<string, any>) => void) | undefined, opts: { rootfs?: boolean } = {}): string {
  const dir = join(tmp.path, `b${n++}`);
  mkdirSync(dir);
  if (opts.rootfs !== false) mkdirSync(join(dir, 'rootfs'));
  if (config !== undefined) {
    writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(busyboxConfig({ edit: config })));
  }
  return dir;
}

function invalid(dir: string, ...fragments: string[]): void {
  assert.throws(
    () => loadBundle(dir),
    (err: unknown) => {
      assert.ok(err instanceof InvalidBundleError, String(err));
      assert.equal(err.code, 'BERTH_ERR_INVALID_BUNDLE');
      for (const f of fragments) assert.ok(err.message.includes(f), `${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
      assert.ok(!/[\r\n]/.test(err.message), `message is one line: ${JSON.stringify(err.message)}`);
      return true;
    },
  );
}

describe('loadBundle: a good bundle', () => {
  test('absolute bundle path, relative rootfs', () => {
    const dir = bundle(() => undefined);
    const b = loadBundle(dir);
    assert.equal(b.path, dir);
    assert.equal(b.rootfs, join(dir, 'rootfs'));
    assert.deepEqual(b.config.process.args, ['sleep', '300']);
  });

  test('a relative bundle path is resolved against cwd', () => {
    const dir = bundle(() => undefined);
    const b = loadBundle(relative(tmp.path, dir), tmp.path);
    assert.equal(b.path, dir);
    assert.equal(loadBundle('.', dir).path, dir);
  });

  test('an absolute root.path may be anywhere', () => {
    const elsewhere = join(tmp.path, `abs-rootfs-${n}`);
    mkdirSync(elsewhere);
    const dir = bundle((c) => (c.root.path = elsewhere), { rootfs: false });
    assert.equal(loadBundle(dir).rootfs, elsewhere);
  });

  test('a relative root.path that stays inside the bundle', () => {
    const dir = bundle((c) => (c.root.path = 'sub/../rootfs/'));
    assert.equal(loadBundle(dir).rootfs, join(dir, 'rootfs'));
    const nested = bundle((c) => (c.root.path = './deep/fs'));
    mkdirSync(join(nested, 'deep/fs'), { recursive: true });
    assert.equal(loadBundle(nested).rootfs, join(nested, 'deep/fs'));
  });

  test('a rootfs directory whose name starts with ".." is inside the bundle', () => {
    const dir = bundle((c) => (c.root.path = '..rootfs'), { rootfs: false });
    mkdirSync(join(dir, '..rootfs'));
    assert.equal(loadBundle(dir).rootfs, join(dir, '..rootfs'));
  });

  test('unknown fields pass through untouched', () => {
    const dir = bundle((c) => {
      c.process.future = { x: 1 };
      c.vendorThing = [1, 2];
    });
    const b = loadBundle(dir);
    assert.deepEqual((b.config.process as Record<string, unknown>).future, { x: 1 });
    assert.deepEqual((b.config as Record<string, unknown>).vendorThing, [1, 2]);
  });

  test('a symlinked rootfs directory is accepted', () => {
    const target = join(tmp.path, `link-target-${n}`);
    mkdirSync(target);
    const dir = bundle(() => undefined, { rootfs: false });
    symlinkSync(target, join(dir, 'rootfs'));
    assert.equal(loadBundle(dir).rootfs, join(dir, 'rootfs'));
  });
});

describe('loadBundle: errors', () => {
  test('the bundle directory does not exist', () => {
    const missing = join(tmp.path, 'no-such-bundle');
    invalid(missing, `bundle directory ${missing} does not exist`);
  });

  test('the bundle is a file', () => {
    const file = join(tmp.path, 'a-file');
    writeFileSync(file, '');
    invalid(file, `bundle ${file} is not a directory`);
  });

  test('no config.json', () => {
    const dir = bundle(undefined);
    invalid(dir, `bundle ${dir} has no config.json`);
  });

  test('config.json that is a directory, a FIFO or a device is refused before it is read', () => {
    const dir = bundle(undefined);
    mkdirSync(join(dir, 'config.json'));
    invalid(dir, `${dir}/config.json is a directory, not a regular file`);
    // A FIFO with no writer: reading it would block create forever (0.8.0 hung there).
    const fifo = bundle(undefined);
    execFileSync('mkfifo', [join(fifo, 'config.json')]);
    invalid(fifo, `${fifo}/config.json is a FIFO (named pipe), not a regular file`, "a bundle's config.json must be a regular file");
    const dev = bundle(undefined);
    symlinkSync('/dev/zero', join(dev, 'config.json'));
    invalid(dev, `${dev}/config.json is a character device, not a regular file`);
  });

  test('config.json over the size limit is refused, naming the limit and the key that raises it', () => {
    const dir = bundle((c) => (c.annotations = { big: 'x'.repeat(5 * 1024 * 1024) }));
    const size = statSync(join(dir, 'config.json')).size;
    invalid(dir, `${dir}/config.json is ${size} bytes, over the limit of 4 MiB`, '[limits] config_json_max_bytes');
    // A smaller configured limit applies; a larger one lets the same file through.
    const small = bundle(() => undefined);
    assert.throws(() => loadBundle(small, undefined, 100), /over the limit of 100 bytes/);
    assert.equal(loadBundle(dir, undefined, 8 * 1024 * 1024).config.annotations?.big?.length, 5 * 1024 * 1024);
  });

  test('config.json behind a symlink to a regular file is read', () => {
    const dir = bundle(() => undefined);
    const other = bundle(undefined);
    symlinkSync(join(dir, 'config.json'), join(other, 'config.json'));
    assert.equal(loadBundle(other).config.ociVersion, loadBundle(dir).config.ociVersion);
  });

  test('config.json is not JSON', () => {
    for (const text of ['', 'not json{', '{"ociVersion": "1.0.2",', 'not json{\n\n  more\n']) {
      const dir = bundle(text);
      invalid(dir, `${dir}/config.json is not valid JSON`);
    }
  });

  test('config.json is JSON but not an object', () => {
    for (const text of ['null', '[]', '"x"', '42']) {
      const dir = bundle(text);
      invalid(dir, `${dir}/config.json is not a valid OCI runtime config`);
    }
  });

  const configCases: Array<[string, (c: Record<string, any>) => void, string[]]> = [
    ['process.args is a string', (c) => (c.process.args = 'sh'), ['process.args', 'Expected array, received string']],
    ['process.args is missing', (c) => delete c.process.args, ['process.args is required']],
    ['process.args is empty', (c) => (c.process.args = []), ['process.args must name the program to run']],
    ['process.args holds a number', (c) => (c.process.args = ['sleep', 1]), ['process.args.1', 'Expected string, received number']],
    ['process is missing', (c) => delete c.process, ['process is required']],
    ['process.cwd is relative', (c) => (c.process.cwd = 'tmp'), ['process.cwd must be an absolute path']],
    ['process.cwd is missing', (c) => delete c.process.cwd, ['process.cwd is required']],
    ['process.user.uid is negative', (c) => (c.process.user.uid = -1), ['process.user.uid']],
    ['root is missing', (c) => delete c.root, ['root is required']],
    ['root.path is missing', (c) => delete c.root.path, ['root.path is required']],
    ['root.path is empty', (c) => (c.root.path = ''), ['root.path must not be empty']],
    ['root is a string', (c) => (c.root = 'rootfs'), ['root', 'Expected object, received string']],
    ['root.path is a number', (c) => (c.root.path = 1), ['root.path', 'Expected string, received number']],
    ['ociVersion is missing', (c) => delete c.ociVersion, ['ociVersion is required']],
    ['annotations hold a number', (c) => (c.annotations = { a: 1 }), ['annotations.a']],
    ['mounts is an object', (c) => (c.mounts = {}), ['mounts', 'Expected array']],
  ];
  for (const [name, edit, fragments] of configCases) {
    test(`not a valid OCI config: ${name}`, () => {
      const dir = bundle(edit);
      invalid(dir, `${dir}/config.json is not a valid OCI runtime config: `, ...fragments);
    });
  }

  test('root.path whose directory does not exist', () => {
    const dir = bundle((c) => (c.root.path = 'nope'));
    invalid(dir, `root filesystem ${dir}/nope (root.path "nope" in ${dir}/config.json) does not exist`, 'an absolute path or a relative path to the bundle', 'make that directory or set root.path');
    const abs = bundle((c) => (c.root.path = '/nonexistent/rootfs'));
    invalid(abs, 'root filesystem /nonexistent/rootfs (root.path "/nonexistent/rootfs" in');
    const outside = bundle((c) => (c.root.path = '../no-such-outside'));
    invalid(outside, `root filesystem ${join(tmp.path, 'no-such-outside')} (root.path "../no-such-outside"`);
  });

  test('root.path is a file', () => {
    const dir = bundle((c) => (c.root.path = 'file'));
    writeFileSync(join(dir, 'file'), '');
    invalid(dir, `root filesystem ${dir}/file (root.path "file" in ${dir}/config.json) is not a directory`, 'set root.path to the directory');
  });
});

describe('loadBundle: root.path as the spec allows it (config.md: absolute, or relative to the bundle)', () => {
  test('"." and "./" are the bundle directory itself', () => {
    for (const p of ['.', './', '']) {
      if (p === '') continue; // empty is refused by the schema (tested above)
      const dir = bundle((c) => (c.root.path = p), { rootfs: false });
      assert.equal(loadBundle(dir).rootfs, dir);
    }
  });

  test('a relative path outside the bundle', () => {
    mkdirSync(join(tmp.path, 'outside-rootfs'), { recursive: true });
    for (const p of ['../outside-rootfs', 'rootfs/../../outside-rootfs']) {
      const dir = bundle((c) => (c.root.path = p));
      assert.equal(loadBundle(dir).rootfs, join(tmp.path, 'outside-rootfs'));
    }
  });

  test('raw is the config as written, unknown fields and all', () => {
    const dir = bundle((c) => {
      c.vendorThing = { deep: [1, { x: null }] };
      c.process.future = true;
    });
    const b = loadBundle(dir);
    assert.deepEqual(b.raw, JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  });
});
