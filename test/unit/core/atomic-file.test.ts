import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSystemError, isAtomicTempName, writeFileAtomic } from '../../../src/core/atomic-file.js';
import { NoSpaceError, ReadOnlyFileSystemError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-atomic-test-');
after(() => tmp.remove());

let n = 0;
function freshDir(): string {
  const dir = join(tmp.path, `d${n++}`);
  mkdirSync(dir);
  return dir;
}

describe('writeFileAtomic', () => {
  test('writes the content with the given mode and leaves no temp file', () => {
    const dir = freshDir();
    const path = join(dir, 'record.json');
    writeFileAtomic(path, '{"a":1}\n', 0o600);
    assert.equal(readFileSync(path, 'utf8'), '{"a":1}\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['record.json']);
  });

  test('the default mode is 0644 (less the umask)', () => {
    const dir = freshDir();
    const path = join(dir, 'f');
    writeFileAtomic(path, 'x');
    const umask = process.umask();
    assert.equal(statSync(path).mode & 0o777, 0o644 & ~umask);
  });

  test('replaces an existing file as a whole, with a new inode', () => {
    const dir = freshDir();
    const path = join(dir, 'f');
    writeFileSync(path, 'old content that is longer than the new one');
    const before = statSync(path).ino;
    writeFileAtomic(path, 'new');
    assert.equal(readFileSync(path, 'utf8'), 'new');
    assert.notEqual(statSync(path).ino, before, 'replaced by rename, not rewritten in place');
    assert.deepEqual(readdirSync(dir), ['f']);
  });

  test('many writes in a row leave exactly one file', () => {
    const dir = freshDir();
    const path = join(dir, 'f');
    for (let i = 0; i < 50; i++) writeFileAtomic(path, String(i));
    assert.equal(readFileSync(path, 'utf8'), '49');
    assert.deepEqual(readdirSync(dir), ['f']);
  });

  test('unicode and empty content', () => {
    const dir = freshDir();
    writeFileAtomic(join(dir, 'u'), 'käse €\n');
    assert.equal(readFileSync(join(dir, 'u'), 'utf8'), 'käse €\n');
    writeFileAtomic(join(dir, 'e'), '');
    assert.equal(readFileSync(join(dir, 'e'), 'utf8'), '');
  });

  test('a missing directory throws ENOENT and creates nothing', () => {
    const dir = freshDir();
    assert.throws(() => writeFileAtomic(join(dir, 'missing/f'), 'x'), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a failed rename removes the temp file and keeps what was there', () => {
    const dir = freshDir();
    const target = join(dir, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x'); // a non-empty directory cannot be renamed over
    assert.throws(() => writeFileAtomic(target, 'data'));
    assert.deepEqual(readdirSync(dir), ['target']);
    assert.deepEqual(readdirSync(target), ['keep']);
  });
});

describe('isAtomicTempName', () => {
  test('recognizes the temp names writeFileAtomic uses', () => {
    assert.ok(isAtomicTempName(`.record.json.tmp-${process.pid}`));
    assert.ok(isAtomicTempName('.f.tmp-1'));
    assert.ok(isAtomicTempName('.a.b.c.tmp-123456'));
  });

  test('and nothing else', () => {
    for (const name of ['record.json', 'record.json.tmp-1', '.record.json', '.record.json.tmp-', '.record.json.tmp-x', '.tmp-1', '.x.tmp-1.bak', 'init.pid', '.call-1-0.log']) {
      assert.equal(isAtomicTempName(name), false, name);
    }
  });
});

describe('fileSystemError', () => {
  const sys = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: something, write`), { code });

  test('a full file system is a NoSpaceError naming the file berth was writing (exit 8)', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const err = fileSystemError(sys(code), '/r/containers/c1/record.json');
      assert.ok(err instanceof NoSpaceError);
      assert.equal(err.code, 'BERTH_ERR_STORAGE_FULL');
      assert.equal(err.message, `cannot write /r/containers/c1/record.json: no space left on its file system (${code}); free some space there and try again`);
    }
  });

  test('a read-only file system is a ReadOnlyFileSystemError naming the file', () => {
    const err = fileSystemError(sys('EROFS'), '/r/identity.json');
    assert.ok(err instanceof ReadOnlyFileSystemError);
    assert.match(err.message, /^cannot write \/r\/identity\.json: its file system is mounted read-only \(EROFS\)/);
  });

  test('any other error is passed on as it is', () => {
    const e = sys('EACCES');
    assert.equal(fileSystemError(e, '/x'), e);
  });
});
