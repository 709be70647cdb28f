// docs/cli.md follows the verb table and the exit codes (src/cli/verbs.ts, src/cli/exit.ts): a verb,
// option, subcommand or exit code added there and not here fails this test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODES, EXIT_MEANINGS } from '../../../src/cli/exit.js';
import { GLOBAL_OPTIONS, VERBS } from '../../../src/cli/verbs.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const doc = readFileSync(join(REPO_ROOT, 'docs/cli.md'), 'utf8');

function section(start: string, end: RegExp): string {
  const i = doc.indexOf(start);
  assert.ok(i >= 0, `docs/cli.md has "${start.trim()}"`);
  const rest = doc.slice(i + start.length);
  const j = rest.search(end);
  return j < 0 ? rest : rest.slice(0, j);
}

test('every verb has a section and a link in the index; its options and subcommands are in it', () => {
  const index = doc.slice(0, doc.indexOf('## Parsing rules'));
  for (const [verb, spec] of Object.entries(VERBS)) {
    assert.ok(index.includes(`[${verb}](#${verb})`), `the index links ${verb}`);
    const text = section(`\n### ${verb}\n`, /\n#{2,3} /);
    for (const o of Object.keys(spec.options)) if (o !== 'help') assert.ok(text.includes(`--${o}`), `### ${verb} documents --${o}`);
    for (const sub of Object.keys(spec.subcommands ?? {})) assert.ok(text.includes(`${verb} ${sub}`), `### ${verb} documents ${sub}`);
  }
});

test('every global option is documented', () => {
  const text = section('\n## Global options\n', /\n## /);
  for (const o of Object.keys(GLOBAL_OPTIONS)) assert.ok(text.includes(`--${o}`), `## Global options documents --${o}`);
});

test('the exit code table is exit.ts: every code with its exit status, every status explained', () => {
  const rows = [...section('\n## Exit codes\n', /\n## /).matchAll(/^\| (\d+) \| `(BERTH_ERR_\w+)` \|/gm)].map((m) => [m[2]!, Number(m[1])] as const);
  assert.deepEqual(Object.fromEntries(rows), EXIT_CODES);
  assert.deepEqual(Object.keys(EXIT_MEANINGS).map(Number).sort((a, b) => a - b), [0, ...new Set(Object.values(EXIT_CODES))].sort((a, b) => a - b));
});
