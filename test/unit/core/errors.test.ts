import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as errors from '../../../src/core/errors.js';
import {
  BackendError,
  BackendUnavailableError,
  BerthError,
  BusyError,
  ContainerExistsError,
  ContainerNotFoundError,
  ContainerStateError,
  ImageError,
  ImageInUseError,
  ImageNotFoundError,
  InternalError,
  CorruptRecordError,
  InvalidArgumentError,
  InvalidBundleError,
  InvalidConfigError,
  InvalidIdError,
  InvalidSignalError,
  StorageError,
  StorageFullError,
  NewerSnapshotsError,
  NoSpaceError,
  ReadOnlyFileSystemError,
  RootRequiredError,
  ToolError,
  UnknownBackendError,
  UnsupportedError,
  UsageError,
  VolumeExistsError,
  VolumeNotFoundError,
  causeChain,
  errnoCode,
  type ErrorCode,
} from '../../../src/core/errors.js';
import { EXIT_CODES, exitCodeFor } from '../../../src/cli/exit.js';
import { RegistryAuthError, RegistryTimeoutError, RegistryUnreachableError } from '../../../src/images/registry/registry-errors.js';
import { ProxmoxApiError, ProxmoxAuthError, ProxmoxPermissionError, ProxmoxTaskError, ProxmoxTimeoutError, ProxmoxUnreachableError } from '../../../src/backends/pve/pve-errors.js';

interface Row {
  cls: abstract new (...args: never[]) => BerthError;
  make: (cause: Error) => BerthError;
  code: ErrorCode;
  message: string;
  /** Whether the constructor takes a cause (and must keep it). */
  keepsCause: boolean;
  exit: number;
}

const table: Row[] = [
  { cls: UsageError, make: () => new UsageError('bad flag'), code: 'BERTH_ERR_USAGE', message: 'bad flag', keepsCause: false, exit: 2 },
  { cls: InvalidIdError, make: () => new InvalidIdError('bad id'), code: 'BERTH_ERR_INVALID_ID', message: 'bad id', keepsCause: false, exit: 3 },
  { cls: InvalidBundleError, make: (cause) => new InvalidBundleError('bad bundle', { cause }), code: 'BERTH_ERR_INVALID_BUNDLE', message: 'bad bundle', keepsCause: true, exit: 3 },
  { cls: InvalidConfigError, make: (cause) => new InvalidConfigError('bad config', { cause }), code: 'BERTH_ERR_INVALID_CONFIG', message: 'bad config', keepsCause: true, exit: 3 },
  { cls: InvalidArgumentError, make: (cause) => new InvalidArgumentError('bad arg', { cause }), code: 'BERTH_ERR_INVALID_ARGUMENT', message: 'bad arg', keepsCause: true, exit: 3 },
  { cls: InvalidSignalError, make: () => new InvalidSignalError('bad signal'), code: 'BERTH_ERR_INVALID_SIGNAL', message: 'bad signal', keepsCause: false, exit: 3 },
  { cls: ContainerNotFoundError, make: () => new ContainerNotFoundError('c1'), code: 'BERTH_ERR_NOT_FOUND', message: 'container "c1" does not exist', keepsCause: false, exit: 4 },
  { cls: ContainerExistsError, make: () => new ContainerExistsError('c1'), code: 'BERTH_ERR_EXISTS', message: 'container "c1" already exists', keepsCause: false, exit: 5 },
  { cls: ContainerStateError, make: () => new ContainerStateError('it is running'), code: 'BERTH_ERR_STATE', message: 'it is running', keepsCause: false, exit: 5 },
  {
    cls: UnknownBackendError,
    make: () => new UnknownBackendError('nope', ['crun', 'runc']),
    code: 'BERTH_ERR_UNKNOWN_BACKEND',
    message: 'unknown backend "nope" (known backends: crun, runc)',
    keepsCause: false,
    exit: 6,
  },
  { cls: BackendUnavailableError, make: (cause) => new BackendUnavailableError('no crun', { cause }), code: 'BERTH_ERR_BACKEND_UNAVAILABLE', message: 'no crun', keepsCause: true, exit: 6 },
  { cls: UnsupportedError, make: () => new UnsupportedError('no pause'), code: 'BERTH_ERR_UNSUPPORTED', message: 'no pause', keepsCause: false, exit: 6 },
  { cls: BackendError, make: (cause) => new BackendError('crun failed', { cause }), code: 'BERTH_ERR_BACKEND', message: 'crun failed', keepsCause: true, exit: 1 },
  { cls: BusyError, make: () => new BusyError('locked'), code: 'BERTH_ERR_BUSY', message: 'locked', keepsCause: false, exit: 7 },
  {
    cls: ToolError,
    make: (cause) => new ToolError('tool failed', { exitCode: 2, stderr: 'oops', cause }),
    code: 'BERTH_ERR_TOOL',
    message: 'tool failed',
    keepsCause: true,
    exit: 1,
  },
  { cls: StorageError, make: (cause) => new StorageError('zfs failed', { cause }), code: 'BERTH_ERR_STORAGE', message: 'zfs failed', keepsCause: true, exit: 1 },
  { cls: NewerSnapshotsError, make: (cause) => new NewerSnapshotsError('later snapshots exist (b)', ['b'], { cause }), code: 'BERTH_ERR_STATE', message: 'later snapshots exist (b)', keepsCause: true, exit: 5 },
  { cls: StorageFullError, make: (cause) => new StorageFullError('pool full', { cause }), code: 'BERTH_ERR_STORAGE_FULL', message: 'pool full', keepsCause: true, exit: 8 },
  { cls: NoSpaceError, make: (cause) => new NoSpaceError('root full', { cause }), code: 'BERTH_ERR_STORAGE_FULL', message: 'root full', keepsCause: true, exit: 8 },
  { cls: RootRequiredError, make: () => new RootRequiredError('berth needs root'), code: 'BERTH_ERR_PERMISSION', message: 'berth needs root', keepsCause: false, exit: 10 },
  { cls: ReadOnlyFileSystemError, make: (cause) => new ReadOnlyFileSystemError('root read-only', { cause }), code: 'BERTH_ERR_PERMISSION', message: 'root read-only', keepsCause: true, exit: 10 },
  { cls: VolumeNotFoundError, make: (cause) => new VolumeNotFoundError('no volume', { cause }), code: 'BERTH_ERR_NOT_FOUND', message: 'no volume', keepsCause: true, exit: 4 },
  { cls: VolumeExistsError, make: (cause) => new VolumeExistsError('volume exists', { cause }), code: 'BERTH_ERR_EXISTS', message: 'volume exists', keepsCause: true, exit: 5 },
  { cls: ImageError, make: (cause) => new ImageError('bad layer', { cause }), code: 'BERTH_ERR_INVALID_IMAGE', message: 'bad layer', keepsCause: true, exit: 3 },
  { cls: ImageNotFoundError, make: (cause) => new ImageNotFoundError('no image', { cause }), code: 'BERTH_ERR_NOT_FOUND', message: 'no image', keepsCause: true, exit: 4 },
  { cls: ImageInUseError, make: () => new ImageInUseError('in use'), code: 'BERTH_ERR_STATE', message: 'in use', keepsCause: false, exit: 5 },
  { cls: InternalError, make: (cause) => new InternalError('bug', { cause }), code: 'BERTH_ERR_INTERNAL', message: 'bug', keepsCause: true, exit: 1 },
  {
    cls: CorruptRecordError,
    make: (cause) => new CorruptRecordError('c1', '/run/berth/containers/c1/record.json', 'it is not JSON', { cause }),
    code: 'BERTH_ERR_INTERNAL',
    message: 'container record /run/berth/containers/c1/record.json is corrupt: it is not JSON; `berth delete --force c1` removes the container and what its backend keeps of it',
    keepsCause: true,
    exit: 1,
  },
  // The registry client's own classes (src/images/registry/registry-errors.ts).
  { cls: RegistryAuthError, make: (cause) => new RegistryAuthError('401', { cause }), code: 'BERTH_ERR_AUTH', message: '401', keepsCause: true, exit: 9 },
  { cls: RegistryUnreachableError, make: (cause) => new RegistryUnreachableError('down', { cause }), code: 'BERTH_ERR_UNREACHABLE', message: 'down', keepsCause: true, exit: 11 },
  { cls: RegistryTimeoutError, make: (cause) => new RegistryTimeoutError('slow', { cause }), code: 'BERTH_ERR_TIMEOUT', message: 'slow', keepsCause: true, exit: 12 },
  // The Proxmox backend's own classes (src/backends/pve/pve-errors.ts) carry the codes below.
  { cls: ProxmoxAuthError, make: (cause) => new ProxmoxAuthError('401', { cause }), code: 'BERTH_ERR_AUTH', message: '401', keepsCause: true, exit: 9 },
  { cls: ProxmoxPermissionError, make: (cause) => new ProxmoxPermissionError('403', { cause }), code: 'BERTH_ERR_PERMISSION', message: '403', keepsCause: true, exit: 10 },
  { cls: ProxmoxUnreachableError, make: (cause) => new ProxmoxUnreachableError('down', { cause }), code: 'BERTH_ERR_UNREACHABLE', message: 'down', keepsCause: true, exit: 11 },
  { cls: ProxmoxTimeoutError, make: (cause) => new ProxmoxTimeoutError('slow', { cause }), code: 'BERTH_ERR_TIMEOUT', message: 'slow', keepsCause: true, exit: 12 },
  { cls: ProxmoxApiError, make: (cause) => new ProxmoxApiError('500 boom', 500, { cause }), code: 'BERTH_ERR_BACKEND', message: '500 boom', keepsCause: true, exit: 1 },
  {
    cls: ProxmoxTaskError,
    make: () => new ProxmoxTaskError('UPID:pve:1:2:3:vzcreate:100:root@pam:', 'disk full', ['a', 'b'], 'create'),
    code: 'BERTH_ERR_BACKEND',
    message: 'Proxmox task create failed: disk full\ntask log (UPID:pve:1:2:3:vzcreate:100:root@pam:):\na\nb',
    keepsCause: false,
    exit: 1,
  },
];

describe('error classes', () => {
  for (const row of table) {
    test(row.cls.name, () => {
      const cause = new Error('root cause');
      const err = row.make(cause);
      assert.ok(err instanceof row.cls);
      assert.ok(err instanceof BerthError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, row.cls.name);
      assert.equal(err.code, row.code);
      assert.equal(err.message, row.message);
      if (row.keepsCause) {
        assert.equal(err.cause, cause);
        assert.deepEqual(causeChain(err), [row.message, 'root cause']);
      } else {
        assert.equal(err.cause, undefined);
      }
      assert.equal(EXIT_CODES[err.code], row.exit);
      assert.equal(exitCodeFor(err), row.exit);
      assert.ok(err.stack?.includes(row.message));
    });
  }

  test('the table covers every exported error class', () => {
    const exported = Object.values(errors).filter(
      (v): v is typeof BerthError => typeof v === 'function' && v.prototype instanceof BerthError,
    );
    const covered = new Set<unknown>(table.map((r) => r.cls));
    const missing = exported.filter((c) => !covered.has(c)).map((c) => c.name);
    assert.deepEqual(missing, []);
  });

  test('the table covers every error code, and every code has an exit code', () => {
    const codes = new Set(table.map((r) => r.code));
    assert.deepEqual([...codes].sort(), Object.keys(EXIT_CODES).sort());
    for (const code of Object.keys(EXIT_CODES) as ErrorCode[]) assert.ok(Number.isInteger(EXIT_CODES[code]) && EXIT_CODES[code] > 0);
  });

  test('the documented exit-code classes', () => {
    assert.equal(EXIT_CODES.BERTH_ERR_USAGE, 2);
    for (const c of ['BERTH_ERR_INVALID_ID', 'BERTH_ERR_INVALID_BUNDLE', 'BERTH_ERR_INVALID_CONFIG', 'BERTH_ERR_INVALID_ARGUMENT', 'BERTH_ERR_INVALID_SIGNAL'] as const) {
      assert.equal(EXIT_CODES[c], 3, c);
    }
    assert.equal(EXIT_CODES.BERTH_ERR_NOT_FOUND, 4);
    assert.equal(EXIT_CODES.BERTH_ERR_EXISTS, 5);
    assert.equal(EXIT_CODES.BERTH_ERR_STATE, 5);
    assert.equal(EXIT_CODES.BERTH_ERR_UNKNOWN_BACKEND, 6);
    assert.equal(EXIT_CODES.BERTH_ERR_BACKEND_UNAVAILABLE, 6);
  });

  test('ToolError keeps the exit code and stderr of the tool', () => {
    const err = new ToolError('x', { exitCode: null, stderr: 'killed' });
    assert.equal(err.exitCode, null);
    assert.equal(err.stderr, 'killed');
    assert.equal(err.cause, undefined);
  });

  test('anything that is not a BerthError exits 1', () => {
    assert.equal(exitCodeFor(new Error('x')), 1);
    assert.equal(exitCodeFor('a string'), 1);
    assert.equal(exitCodeFor(undefined), 1);
    assert.equal(exitCodeFor({ code: 'BERTH_ERR_USAGE' }), 1);
  });
});

describe('causeChain', () => {
  test('outermost first, through non-Error causes', () => {
    const inner = new Error('inner', { cause: 'a string cause' });
    const outer = new InvalidBundleError('outer', { cause: inner });
    assert.deepEqual(causeChain(outer), ['outer', 'inner', 'a string cause']);
  });

  test('stops at a cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.deepEqual(causeChain(b), ['b', 'a']);
  });

  test('non-errors', () => {
    assert.deepEqual(causeChain('plain'), ['plain']);
    assert.deepEqual(causeChain(undefined), []);
    assert.deepEqual(causeChain(null), []);
  });
});

describe('errnoCode', () => {
  test('reads the string code of system errors only', () => {
    assert.equal(errnoCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
    assert.equal(errnoCode(new InvalidIdError('x')), 'BERTH_ERR_INVALID_ID');
    assert.equal(errnoCode(Object.assign(new Error('x'), { code: 2 })), undefined);
    assert.equal(errnoCode(new Error('x')), undefined);
    assert.equal(errnoCode(null), undefined);
    assert.equal(errnoCode('ENOENT'), undefined);
  });
});
