import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerExistsError, ContainerNotFoundError, ContainerStateError, InvalidIdError, UnsupportedError, UsageError } from '../../../src/core/errors.js';
import { DEFAULT_SHIM_DIR, shimPaths } from '../../../src/shim/paths.js';
import { toTtrpcError } from '../../../src/shim/task-errors.js';
import { Code, TtrpcError } from '../../../src/shim/ttrpc/status.js';

test('one engine socket per (containerd address, namespace), a state root per namespace, under BERTH_SHIM_DIR', () => {
  const a = shimPaths('/run/containerd/containerd.sock', 'default', {});
  assert.match(a.socket, new RegExp(`^${DEFAULT_SHIM_DIR}/s/[0-9a-f]{64}$`));
  assert.equal(a.root, `${DEFAULT_SHIM_DIR}/ns/default`);
  assert.equal(a.pending, `${a.socket}.pending`);
  assert.equal(shimPaths('/run/containerd/containerd.sock', 'default', {}).socket, a.socket, 'stable');
  assert.notEqual(shimPaths('/run/containerd/containerd.sock', 'k8s.io', {}).socket, a.socket);
  assert.notEqual(shimPaths('/tmp/other.sock', 'default', {}).socket, a.socket);
  // The pair is hashed with a separator: ("a", "bc") and ("ab", "c") differ.
  assert.notEqual(shimPaths('/x/a', 'bc', {}).socket, shimPaths('/x/ab', 'c', {}).socket);
  assert.equal(shimPaths('/s', 'ns1', { BERTH_SHIM_DIR: '/tmp/d' }).root, '/tmp/d/ns/ns1');
  for (const bad of ['', '..', 'a/b', '-x', 'a..b']) assert.throws(() => shimPaths('/s', bad, {}), UsageError, bad);
});

test("berth's errors become containerd's codes, with berth's message", () => {
  const cases: Array<[Error, number]> = [
    [new ContainerNotFoundError('c1'), Code.NotFound],
    [new ContainerExistsError('c1'), Code.AlreadyExists],
    [new ContainerStateError('cannot start container "c1": it is running'), Code.FailedPrecondition],
    [new InvalidIdError('bad id'), Code.InvalidArgument],
    [new UnsupportedError('no stdio'), Code.FailedPrecondition],
    [new Error('plain'), Code.Unknown],
  ];
  for (const [err, code] of cases) {
    const t = toTtrpcError(err);
    assert.equal(t.code, code, err.message);
    assert.equal(t.message, err.message);
  }
  const own = new TtrpcError(Code.Unimplemented, 'x');
  assert.equal(toTtrpcError(own), own);
});
