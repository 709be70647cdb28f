import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionModel, operandKinds, optionValueKind } from '../../../src/cli/completion-model.js';

test('operand kinds from a usage line; option values are not operands', () => {
  assert.deepEqual(operandKinds('<container-id> [signal]'), ['container', 'signal']);
  assert.deepEqual(operandKinds('ID [--format table|json]'), ['container']);
  assert.deepEqual(operandKinds('[REGISTRY/]REPO[:TAG|@sha256:DIGEST] [--platform OS/ARCH[/VARIANT]] [--creds USER:PASS] [--tls-verify=false]'), ['none']);
  assert.deepEqual(operandKinds('REF [--force]'), ['image']);
  assert.deepEqual(operandKinds('PATH[:TAG] [--name REF]'), ['file']);
  assert.deepEqual(operandKinds('<bash|zsh|fish>'), [{ words: ['bash', 'zsh', 'fish'] }]);
  assert.deepEqual(operandKinds('<container-id> [-- args...]'), ['container']);
});

test('option value kinds', () => {
  assert.equal(optionValueKind('bundle', { type: 'string', valueName: 'DIR', description: '' }), 'dir');
  assert.equal(optionValueKind('runtime', { type: 'string', valueName: 'NAME', description: '' }), 'backend');
  assert.deepEqual(optionValueKind('log-format', { type: 'string', valueName: 'text|json', description: '' }), { words: ['text', 'json'] });
  assert.equal(optionValueKind('debug', { type: 'boolean', description: '' }), 'none');
});

test('the model covers every verb, and help completes verbs and topics', () => {
  const m = completionModel();
  assert.ok(m.verbs.some((v) => v.name === 'completion'));
  const help = m.operands.help![0] as { words: string[] };
  assert.ok(help.words.includes('create') && help.words.includes('exit-codes'));
});
