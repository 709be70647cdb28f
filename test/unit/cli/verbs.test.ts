// The verb table is the one source of the verbs, their subcommands and options: help, the
// operation names of logs and metrics, and the usage errors all come from it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verbHelp } from '../../../src/cli/help.js';
import { operationName, subcommandOf, unknownSubcommand, VERBS } from '../../../src/cli/verbs.js';

describe('subcommands', () => {
  test('canonical names and aliases', () => {
    assert.equal(subcommandOf('image', 'pull'), 'pull');
    assert.equal(subcommandOf('image', 'list'), 'ls');
    assert.equal(subcommandOf('snapshot', 'remove'), 'rm');
    assert.equal(subcommandOf('image', 'constructor'), undefined);
    assert.equal(subcommandOf('create', 'x'), undefined, 'a verb without subcommands');
  });

  test('operation names: verb-subcommand, else the verb', () => {
    assert.equal(operationName('image', ['list']), 'image-ls');
    assert.equal(operationName('snapshot', ['create', 'c1']), 'snapshot-create');
    assert.equal(operationName('image', ['frob']), 'image');
    assert.equal(operationName('create', ['c1']), 'create');
  });

  test('usage errors list the subcommands and suggest the nearest', () => {
    assert.equal(unknownSubcommand('image', undefined).message, 'image needs a subcommand: pull, push, import, ls, inspect, rm or prune (see: berth image --help)');
    assert.match(unknownSubcommand('snapshot', 'rollbak').message, /^unknown snapshot subcommand "rollbak"; did you mean "rollback"\?: use create, ls, rollback or rm/);
    assert.match(unknownSubcommand('image', 'lst').message, /did you mean "ls" or "list"\?/);
  });

  test("every subcommand's options are options of its verb, and help lists every subcommand", () => {
    for (const [verb, spec] of Object.entries(VERBS)) {
      for (const [sub, s] of Object.entries(spec.subcommands ?? {})) {
        for (const o of s.options) assert.ok(Object.hasOwn(spec.options, o), `${verb} ${sub}: --${o} is not an option of ${verb}`);
        assert.match(verbHelp(verb), new RegExp(`^  ${sub}( |$)`, 'm'), `berth ${verb} --help lists ${sub}`);
      }
    }
  });

  test('every option of a verb with subcommands belongs to one of them (or is help/format)', () => {
    for (const [verb, spec] of Object.entries(VERBS)) {
      if (!spec.subcommands) continue;
      const used = new Set(Object.values(spec.subcommands).flatMap((s) => s.options));
      for (const o of Object.keys(spec.options)) if (o !== 'help') assert.ok(used.has(o), `${verb} --${o} is taken by no subcommand`);
    }
  });
});
