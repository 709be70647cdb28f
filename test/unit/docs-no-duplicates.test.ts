// The docs say each thing once: no paragraph of any length repeats across README.md and docs/
// (a copy drifts from its original; docs/configuration.md once held one paragraph twice, changed
// in one place only).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';

function markdown(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? markdown(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
}

test('no paragraph of the docs appears twice', () => {
  const seen = new Map<string, string>();
  const dups: string[] = [];
  for (const file of [join(REPO_ROOT, 'README.md'), ...markdown(join(REPO_ROOT, 'docs'))]) {
    const paragraphs = readFileSync(file, 'utf8')
      .split(/\n\s*\n/)
      .map((p) => p.trim().replace(/\s+/g, ' '))
      // Table rows and code blocks repeat on purpose (a command shown twice); prose does not.
      .filter((p) => p.length >= 120 && !p.startsWith('|') && !p.startsWith('```'));
    for (const p of paragraphs) {
      const where = relative(REPO_ROOT, file);
      const first = seen.get(p);
      if (first !== undefined) dups.push(`${where} repeats a paragraph of ${first}: "${p.slice(0, 80)}…"`);
      else seen.set(p, where);
    }
  }
  assert.deepEqual(dups, []);
});
