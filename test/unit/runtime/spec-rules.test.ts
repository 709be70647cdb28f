// The spec's rules berth checks itself before any backend runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, InvalidBundleError } from '../../../src/core/errors.js';
import { runtimeConfigSchema } from '../../../src/core/oci/runtime-config.js';
import { assertProgramNamed, assertSpecRules } from '../../../src/runtime/spec-rules.js';

const config = (namespaces: Array<{ type: string; path?: string }>) =>
  runtimeConfigSchema.parse({ ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/' }, root: { path: 'rootfs' }, linux: { namespaces } });

describe('assertSpecRules', () => {
  test('a namespace type listed twice is refused, naming the entry and quoting the rule', () => {
    assert.throws(
      () => assertSpecRules(config([{ type: 'pid' }, { type: 'mount' }, { type: 'pid', path: '/proc/1/ns/pid' }]), '/b/config.json'),
      (err: unknown) =>
        err instanceof InvalidBundleError &&
        err.message === '/b/config.json: linux.namespaces[2] lists type "pid" again; config-linux.md, Namespaces: "If namespaces contains duplicate namespace types, the runtime MUST generate an error"',
    );
  });

  test('distinct types, none at all, or no linux section pass', () => {
    assertSpecRules(config([{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }]), 'c');
    assertSpecRules(config([]), 'c');
    assertSpecRules(runtimeConfigSchema.parse({ ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/' }, root: { path: 'rootfs' } }), 'c');
  });

  test('an empty process.args[0] is refused, quoting the rule (0.8.0 left it to execve: "Operation not permitted")', () => {
    const c = runtimeConfigSchema.parse({ ociVersion: '1.0.2', process: { args: [''], cwd: '/' }, root: { path: 'rootfs' } });
    assert.throws(
      () => assertSpecRules(c, '/b/config.json'),
      (err: unknown) =>
        err instanceof InvalidBundleError &&
        err.message === `/b/config.json: process.args[0] is empty, so it names no program to run; config.md, Process: "at least one entry is REQUIRED, and that entry is used with the same semantics as execvp's file"`,
    );
    // Later entries may be empty: they are arguments.
    assertSpecRules(runtimeConfigSchema.parse({ ociVersion: '1.0.2', process: { args: ['sh', ''], cwd: '/' }, root: { path: 'rootfs' } }), 'c');
  });

  test('exec with an empty program is refused the same way', () => {
    assert.throws(() => assertProgramNamed([''], 'exec in container "c1"'), (err: unknown) => err instanceof InvalidArgumentError && err.message.startsWith('exec in container "c1": the program to run is an empty string; config.md, Process'));
    assertProgramNamed(['true', ''], 'x');
  });
});
