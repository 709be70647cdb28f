import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthConfig, RouteRule } from '../../../src/core/config.js';
import { UnknownBackendError } from '../../../src/core/errors.js';
import { globToRegExp, matches, route } from '../../../src/runtime/router.js';

function config(routes: RouteRule[] = [], default_runtime = 'crun'): BerthConfig {
  return { default_runtime, routes, runtimes: {}, storage: { driver: 'dir', dir: '/var/lib/berth/storage' } };
}

const rules: RouteRule[] = [
  { id_glob: 'web-*', runtime: 'runc' },
  { id_regex: '^db-[0-9]+$', runtime: 'runc' },
  { id_glob: 'w*', runtime: 'crun' },
];

function unknown(fn: () => unknown, name: string, suggestion = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UnknownBackendError, String(err));
    assert.equal(err.code, 'BERTH_ERR_UNKNOWN_BACKEND');
    assert.equal(err.message, `unknown backend "${name}" (known backends: crun, crun-abi, crun-cli, runc, lxc, pve)${suggestion}`);
    return true;
  });
}

describe('route: precedence', () => {
  test('--runtime wins over the annotation, the routes and the default', () => {
    assert.deepEqual(route({ id: 'web-1', override: 'crun', annotation: 'runc', config: config(rules, 'runc') }), {
      backend: 'crun',
      reason: '--runtime flag',
    });
  });

  test('the annotation wins over the routes and the default', () => {
    assert.deepEqual(route({ id: 'web-1', override: undefined, annotation: 'crun', config: config(rules, 'runc') }), {
      backend: 'crun',
      reason: 'bundle annotation run.berth.runtime',
    });
  });

  test('routes in order: the first match wins', () => {
    // web-1 matches rule 1 and rule 3: rule 1 wins.
    assert.deepEqual(route({ id: 'web-1', override: undefined, annotation: undefined, config: config(rules) }), {
      backend: 'runc',
      reason: 'config route #1 (id_glob "web-*")',
    });
    assert.deepEqual(route({ id: 'db-42', override: undefined, annotation: undefined, config: config(rules) }), {
      backend: 'runc',
      reason: 'config route #2 (id_regex "^db-[0-9]+$")',
    });
    assert.deepEqual(route({ id: 'worker', override: undefined, annotation: undefined, config: config(rules, 'runc') }), {
      backend: 'crun',
      reason: 'config route #3 (id_glob "w*")',
    });
  });

  test('order matters: the same rules reversed give another answer', () => {
    const reversed = [...rules].reverse();
    assert.deepEqual(route({ id: 'web-1', override: undefined, annotation: undefined, config: config(reversed) }), {
      backend: 'crun',
      reason: 'config route #1 (id_glob "w*")',
    });
  });

  test('no match: the configured default', () => {
    assert.deepEqual(route({ id: 'db-x', override: undefined, annotation: undefined, config: config(rules, 'runc') }), {
      backend: 'runc',
      reason: 'configured default runtime',
    });
    assert.deepEqual(route({ id: 'anything', override: undefined, annotation: undefined, config: config() }), {
      backend: 'crun',
      reason: 'configured default runtime',
    });
  });
});

describe('route: an unknown backend name is an error, never a fallback', () => {
  test('from --runtime', () => {
    unknown(() => route({ id: 'a', override: 'nope', annotation: 'crun', config: config() }), 'nope');
  });
  test('from the annotation', () => {
    unknown(() => route({ id: 'a', override: undefined, annotation: 'kata', config: config() }), 'kata');
  });
  test('from a matching route', () => {
    unknown(() => route({ id: 'web-1', override: undefined, annotation: undefined, config: config([{ id_glob: 'web-*', runtime: 'gvisor' }]) }), 'gvisor');
  });
  test('from the default', () => {
    unknown(() => route({ id: 'a', override: undefined, annotation: undefined, config: config([], 'nope') }), 'nope');
  });
  test('a route with an unknown backend that does not match is not consulted', () => {
    assert.equal(route({ id: 'a', override: undefined, annotation: undefined, config: config([{ id_glob: 'web-*', runtime: 'gvisor' }]) }).backend, 'crun');
  });
  test('names are case-sensitive', () => {
    unknown(() => route({ id: 'a', override: 'CRUN', annotation: undefined, config: config() }), 'CRUN', '; did you mean "crun"?');
  });
  test('a misspelled name gets the nearest known one', () => {
    unknown(() => route({ id: 'a', override: 'rnuc', annotation: undefined, config: config() }), 'rnuc', '; did you mean "runc"?');
    unknown(() => route({ id: 'a', override: 'crun-ab', annotation: undefined, config: config() }), 'crun-ab', '; did you mean "crun-abi"?');
  });
  test('names of Object.prototype properties are unknown', () => {
    unknown(() => route({ id: 'a', override: 'constructor', annotation: undefined, config: config() }), 'constructor');
    unknown(() => route({ id: 'a', override: '__proto__', annotation: undefined, config: config() }), '__proto__');
  });
});

describe('globs', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['web-*', ['web-', 'web-1', 'web-a-b'], ['web', 'xweb-1', 'Web-1']],
    ['*-db', ['a-db', '-db'], ['a-db2', 'adb']],
    ['*', ['', 'x', 'a.b'], []],
    ['c?', ['c1', 'cc'], ['c', 'c12']],
    ['node[0-9]', ['node0', 'node9'], ['nodea', 'node10']],
    ['node[!0-9]', ['nodea'], ['node5']],
    ['[ab]x', ['ax', 'bx'], ['cx', 'abx']],
    ['a.b', ['a.b'], ['axb']],
    ['a+b(c)|d', ['a+b(c)|d'], ['aab(c)', 'd']],
    ['$x^', ['$x^'], ['x']],
    ['a{1}', ['a{1}'], ['a']],
    ['[', ['['], ['a']],
    ['a]', ['a]'], ['a']],
    ['line*', ['line\nbreak'], []],
  ];
  for (const [glob, yes, no] of cases) {
    test(`${JSON.stringify(glob)} matches the whole id`, () => {
      const re = globToRegExp(glob);
      for (const id of yes) assert.ok(re.test(id), `${glob} should match ${JSON.stringify(id)}`);
      for (const id of no) assert.ok(!re.test(id), `${glob} should not match ${JSON.stringify(id)}`);
      for (const id of yes) assert.ok(matches({ id_glob: glob, runtime: 'crun' }, id));
    });
  }
});

describe('regexes', () => {
  test('a JavaScript regular expression tested against the id', () => {
    const rule = { id_regex: '^db-[0-9]+$', runtime: 'runc' };
    assert.ok(matches(rule, 'db-1'));
    assert.ok(!matches(rule, 'db-1a'));
    assert.ok(!matches(rule, 'xdb-1'));
  });

  test('without anchors it matches anywhere in the id', () => {
    const rule = { id_regex: 'cache', runtime: 'runc' };
    assert.ok(matches(rule, 'redis-cache-1'));
    assert.ok(!matches(rule, 'redis'));
  });

  test('alternation and classes', () => {
    const rule = { id_regex: '^(web|api)-\\d+$', runtime: 'runc' };
    assert.ok(matches(rule, 'web-1'));
    assert.ok(matches(rule, 'api-22'));
    assert.ok(!matches(rule, 'db-1'));
  });
});
