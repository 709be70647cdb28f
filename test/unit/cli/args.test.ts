import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, type OptionSpecs, type ParsedOptions } from '../../../src/cli/args.js';
import { GLOBAL_OPTIONS, VERBS } from '../../../src/cli/verbs.js';
import { UsageError } from '../../../src/core/errors.js';

/** How berth's entry point parses: globals up to the verb, then the verb's options (plus globals). */
function parseCommandLine(argv: string[]) {
  const head = parseOptions(argv, GLOBAL_OPTIONS, { stopAtOperand: true, context: 'berth' });
  const [verb, ...rest] = head.operands;
  if (verb === undefined) return { globals: head.options, verb, options: {}, operands: [] as string[] };
  const spec = VERBS[verb]!;
  const parsed = parseOptions(rest, { ...GLOBAL_OPTIONS, ...spec.options }, { stopAtOperand: spec.stopAtOperand, context: verb });
  return { globals: head.options, verb, options: parsed.options, operands: parsed.operands };
}

function usage(fn: () => unknown, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.code, 'BERTH_ERR_USAGE');
    assert.ok(err.message.includes(fragment), `${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
    return true;
  });
}

const specs: OptionSpecs = {
  name: { type: 'string', short: 'n', description: '' },
  all: { type: 'boolean', short: 'a', description: '' },
  verbose: { type: 'boolean', short: 'v', description: '' },
  env: { type: 'string', short: 'e', multiple: true, description: '' },
};

describe('parseOptions', () => {
  test('long options with separate and inline values', () => {
    assert.deepEqual(parseOptions(['--name', 'x', 'op'], specs, { context: 't' }), { options: { name: 'x' }, operands: ['op'] });
    assert.deepEqual(parseOptions(['--name=x', 'op'], specs, { context: 't' }), { options: { name: 'x' }, operands: ['op'] });
    assert.deepEqual(parseOptions(['--name=a=b'], specs, { context: 't' }).options, { name: 'a=b' });
    assert.deepEqual(parseOptions(['--name='], specs, { context: 't' }).options, { name: '' });
    assert.deepEqual(parseOptions(['--name', '--all'], specs, { context: 't' }).options, { name: '--all' }, 'a value is taken as is');
  });

  test('the last of a repeated option wins; multiple options collect', () => {
    assert.deepEqual(parseOptions(['--name', 'a', '--name', 'b'], specs, { context: 't' }).options, { name: 'b' });
    assert.deepEqual(parseOptions(['-e', 'A=1', '--env=B=2', '-eC=3', '--env', 'D=4'], specs, { context: 't' }).options, { env: ['A=1', 'B=2', 'C=3', 'D=4'] });
  });

  test('booleans, with an optional =true / =false', () => {
    assert.deepEqual(parseOptions(['--all'], specs, { context: 't' }).options, { all: true });
    assert.deepEqual(parseOptions(['--all=true'], specs, { context: 't' }).options, { all: true });
    assert.deepEqual(parseOptions(['--all=false'], specs, { context: 't' }).options, { all: false });
    usage(() => parseOptions(['--all=yes'], specs, { context: 't' }), 'option --all takes no value (got "yes")');
  });

  test('short options: alone, with a value, with an attached value, in clusters', () => {
    assert.deepEqual(parseOptions(['-a'], specs, { context: 't' }).options, { all: true });
    assert.deepEqual(parseOptions(['-n', 'x'], specs, { context: 't' }).options, { name: 'x' });
    assert.deepEqual(parseOptions(['-nx'], specs, { context: 't' }).options, { name: 'x' });
    assert.deepEqual(parseOptions(['-av'], specs, { context: 't' }).options, { all: true, verbose: true });
    assert.deepEqual(parseOptions(['-va'], specs, { context: 't' }).options, { all: true, verbose: true });
  });

  test('a cluster may only hold known boolean options', () => {
    usage(() => parseOptions(['-ax'], specs, { context: 't' }), 'unknown option -x for t');
    // getopt: one option that takes a value may end a cluster, its value the rest or the next argument.
    assert.deepEqual(parseOptions(['-an', 'x', 'op'], specs, { context: 't' }), { options: { all: true, name: 'x' }, operands: ['op'] });
    assert.deepEqual(parseOptions(['-anx'], specs, { context: 't' }).options, { all: true, name: 'x' });
    usage(() => parseOptions(['-an'], specs, { context: 't' }), 'option --name (-n) needs a value');
  });

  test('unknown options name the option and the context', () => {
    usage(() => parseOptions(['--nope'], specs, { context: 'kill' }), 'unknown option --nope for kill');
    usage(() => parseOptions(['--nope=1'], specs, { context: 'kill' }), 'unknown option --nope for kill');
    usage(() => parseOptions(['-z'], specs, { context: 'kill' }), 'unknown option -z for kill');
    usage(() => parseOptions(['---x'], specs, { context: 'kill' }), 'unknown option');
  });

  test('a misspelled long option gets the nearest one, and the help to read', () => {
    usage(() => parseOptions(['--nmae', 'x'], specs, { context: 'kill' }), 'unknown option --nmae for kill; did you mean --name? (see: berth kill --help)');
    usage(() => parseOptions(['--bundel', 'b', 'id'], VERBS.create!.options, { context: 'create' }), 'did you mean --bundle?');
    usage(() => parseOptions(['--roto', '/r'], GLOBAL_OPTIONS, { context: 'berth', stopAtOperand: true }), 'unknown option --roto for berth; did you mean --root? (see: berth --help)');
    // Nothing near: no guess.
    assert.throws(() => parseOptions(['--xyzzy'], specs, { context: 'kill' }), (err: Error) => !err.message.includes('did you mean'));
  });

  test('missing values', () => {
    usage(() => parseOptions(['--name'], specs, { context: 't' }), 'option --name needs a value');
    usage(() => parseOptions(['-n'], specs, { context: 't' }), 'option --name needs a value');
    usage(() => parseOptions(['op', '-e'], specs, { context: 't' }), 'option --env needs a value');
  });

  test('operands between options, "-" and negative numbers are operands', () => {
    assert.deepEqual(parseOptions(['a', '--all', 'b', '-', '-9'], specs, { context: 't' }), { options: { all: true }, operands: ['a', 'b', '-', '-9'] });
  });

  test('-- ends the options', () => {
    assert.deepEqual(parseOptions(['--all', '--', '--name', 'x', '-a'], specs, { context: 't' }), { options: { all: true }, operands: ['--name', 'x', '-a'] });
    assert.deepEqual(parseOptions(['--'], specs, { context: 't' }), { options: {}, operands: [] });
    assert.deepEqual(parseOptions(['op', '--', '--'], specs, { context: 't' }), { options: {}, operands: ['op', '--'] });
  });

  test('stopAtOperand: everything from the first operand on is an operand', () => {
    assert.deepEqual(parseOptions(['-a', 'id', 'sh', '-c', '--name', 'x'], specs, { context: 't', stopAtOperand: true }), {
      options: { all: true },
      operands: ['id', 'sh', '-c', '--name', 'x'],
    });
  });

  test('nothing at all', () => {
    assert.deepEqual(parseOptions([], specs, { context: 't' }), { options: {}, operands: [] });
  });

  test('an option named like an Object.prototype property is unknown', () => {
    usage(() => parseOptions(['--constructor'], specs, { context: 't' }), 'unknown option --constructor');
    usage(() => parseOptions(['--toString=x'], specs, { context: 't' }), 'unknown option --toString');
  });
});

describe('berth command lines', () => {
  test('global options before the verb', () => {
    const r = parseCommandLine(['--root', '/r', '--log=/l', '--log-format', 'json', '--debug', '--systemd-cgroup', '--runtime', 'runc', '--config', '/c.toml', 'state', 'c1']);
    assert.deepEqual(r.globals, { root: '/r', log: '/l', 'log-format': 'json', debug: true, 'systemd-cgroup': true, runtime: 'runc', config: '/c.toml' });
    assert.equal(r.verb, 'state');
    assert.deepEqual(r.operands, ['c1']);
  });

  test('global options are accepted after the verb too', () => {
    const r = parseCommandLine(['create', '--root=/r', '--bundle', '/b', 'c1', '--debug']);
    assert.deepEqual(r.globals, {});
    assert.deepEqual(r.options, { root: '/r', bundle: '/b', debug: true });
    assert.deepEqual(r.operands, ['c1']);
  });

  test('verb options: create', () => {
    const r = parseCommandLine(['create', '-b', '/b', '--pid-file=/p', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', '--preserve-fds', '2', 'c1']);
    assert.deepEqual(r.options, { bundle: '/b', 'pid-file': '/p', 'console-socket': '/s', 'no-pivot': true, 'no-new-keyring': true, 'preserve-fds': '2' });
    assert.deepEqual(r.operands, ['c1']);
  });

  test('verb options: kill, delete, stop, ps, list, update', () => {
    assert.deepEqual(parseCommandLine(['kill', '-a', 'c1', 'KILL']), { globals: {}, verb: 'kill', options: { all: true }, operands: ['c1', 'KILL'] });
    assert.deepEqual(parseCommandLine(['kill', '--all', 'c1', '9']).options, { all: true });
    assert.deepEqual(parseCommandLine(['delete', '-f', 'c1']).options, { force: true });
    assert.deepEqual(parseCommandLine(['stop', '-t', '3', 'c1']).options, { timeout: '3' });
    assert.deepEqual(parseCommandLine(['ps', '-f', 'json', 'c1']).options, { format: 'json' });
    assert.deepEqual(parseCommandLine(['list', '-q', '--format=json']).options, { quiet: true, format: 'json' });
    assert.deepEqual(parseCommandLine(['update', '-r', '-', 'c1']), { globals: {}, verb: 'update', options: { resources: '-' }, operands: ['c1'] });
  });

  test('run: -d and create options', () => {
    const r = parseCommandLine(['run', '-d', '--bundle', '/b', 'c1']);
    assert.deepEqual(r.options, { detach: true, bundle: '/b' });
    assert.deepEqual(r.operands, ['c1']);
  });

  test('exec stops at the first operand: the process keeps its own options', () => {
    const r = parseCommandLine(['exec', '-t', '-e', 'A=1', '--cwd', '/tmp', 'c1', 'sh', '-c', 'ls -l', '--env', 'X', '-d']);
    assert.deepEqual(r.options, { tty: true, env: ['A=1'], cwd: '/tmp' });
    assert.deepEqual(r.operands, ['c1', 'sh', '-c', 'ls -l', '--env', 'X', '-d']);
  });

  test('exec: short clusters and --', () => {
    assert.deepEqual(parseCommandLine(['exec', '-dt', 'c1', 'top']).options, { detach: true, tty: true });
    const r = parseCommandLine(['exec', '--', 'c1', '--help']);
    assert.deepEqual(r.options, {});
    assert.deepEqual(r.operands, ['c1', '--help']);
  });

  test('the verb ends the global options', () => {
    const r = parseCommandLine(['--debug', 'kill', 'c1', 'TERM']);
    assert.deepEqual(r.globals, { debug: true });
    assert.equal(r.verb, 'kill');
  });

  test('unknown options: before the verb, and for a verb', () => {
    usage(() => parseCommandLine(['--bundle', '/b', 'create', 'c1']), 'unknown option --bundle for berth');
    usage(() => parseCommandLine(['state', '--force', 'c1']), 'unknown option --force for state');
    usage(() => parseCommandLine(['exec', '--all', 'c1', 'sh']), 'unknown option --all for exec');
    usage(() => parseCommandLine(['kill', '-x', 'c1']), 'unknown option -x for kill');
  });

  test('missing values: global and verb', () => {
    usage(() => parseCommandLine(['--root']), 'option --root needs a value');
    usage(() => parseCommandLine(['create', 'c1', '--bundle']), 'option --bundle needs a value');
    usage(() => parseCommandLine(['exec', '--cwd']), 'option --cwd needs a value');
  });

  test('-h and -v', () => {
    assert.deepEqual(parseCommandLine(['-v']).globals, { version: true });
    assert.deepEqual(parseCommandLine(['-h']).globals, { help: true });
    assert.deepEqual(parseCommandLine(['state', '-h']).options, { help: true });
  });

  test('every verb spec: short names are unique and do not clash with the globals', () => {
    const globalShorts = Object.values(GLOBAL_OPTIONS).map((s) => s.short).filter(Boolean);
    for (const [verb, spec] of Object.entries(VERBS)) {
      const shorts = Object.entries(spec.options).filter(([name]) => !Object.hasOwn(GLOBAL_OPTIONS, name)).map(([, s]) => s.short).filter(Boolean);
      assert.equal(new Set(shorts).size, shorts.length, `${verb}: duplicate short option`);
      for (const s of shorts) {
        // -h means help everywhere; a verb's own -h is that same help option
        if (s === 'h') continue;
        assert.ok(!globalShorts.includes(s), `${verb}: -${s} clashes with a global option`);
      }
    }
  });

  test("Docker's habits on run (issue 19): -it, -dit and -dte are clusters, never -i taking the rest as an image", () => {
    const it = parseCommandLine(['run', '-it', '--image', 'busybox', 'c1', '--', 'sh']);
    const o = (r: { options: ParsedOptions | object }): ParsedOptions => r.options as ParsedOptions;
    assert.deepEqual([o(it).interactive, o(it).tty, o(it).image, it.operands], [true, true, 'busybox', ['c1', 'sh']]);
    const dit = o(parseCommandLine(['run', '-dit', '--image', 'busybox', 'c1']));
    assert.deepEqual([dit.detach, dit.interactive, dit.tty], [true, true, true]);
    const dte = o(parseCommandLine(['run', '-dte', 'A=1', '--image', 'busybox', 'c1']));
    assert.deepEqual([dte.detach, dte.tty, dte.env], [true, true, ['A=1']]);
    assert.equal(VERBS.create!.options.image!.short, undefined, '-i is not --image');
  });
});
