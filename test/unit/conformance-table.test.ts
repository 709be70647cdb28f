// docs/conformance.md lists exactly the MUSTs the conformance suite has, and the renderer shows
// every kind of outcome as the legend says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MUSTS, type ConformanceResults } from '../helpers/conformance-musts.js';
import { renderConformance } from '../helpers/conformance-table.js';
import { REPO_ROOT } from '../helpers/paths.js';

/** The MUST ids of a rendered table, in row order. */
function tableIds(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([a-zA-Z-]+)` \|/gm)].map((m) => m[1]!);
}

describe('docs/conformance.md', () => {
  test('lists exactly the MUSTs of the suite, in its order', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/conformance.md'), 'utf8');
    assert.deepEqual(tableIds(doc), MUSTS.map((m) => m.id));
  });

  test('every MUST id is unique', () => {
    assert.equal(new Set(MUSTS.map((m) => m.id)).size, MUSTS.length);
  });

  test('has a column per berth backend, pve and the two yardsticks', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/conformance.md'), 'utf8');
    assert.match(doc, /^\| MUST \| section \| rule \| crun-cli \| crun-abi \| runc \| lxc \| pve \| raw crun \| raw runc \|$/m);
  });
});

describe('renderConformance', () => {
  const [first, second, third] = MUSTS;
  const results: ConformanceResults = {
    ran: '2026-01-01T00:00:00.000Z',
    host: { kernel: 'k1' },
    outcomes: {
      [first!.id]: { 'crun-cli': { result: 'pass' }, 'raw crun': { result: 'fail', reason: 'crun says no' } },
      [second!.id]: { 'crun-cli': { result: 'fail', reason: 'crun says no', inherited: 'raw crun' }, runc: { result: 'fail', reason: 'berth broke it' } },
      [third!.id]: { lxc: { result: 'skip', reason: 'no such thing | here' } },
    },
  };
  const doc = renderConformance(results);
  const row = (id: string): string[] => doc.split('\n').find((l) => l.startsWith(`| \`${id}\` |`))!.split(' | ');

  test('pass, fail, inherited fail, skip, not run and the pve note', () => {
    // cells after: MUST, section, rule → crun-cli, crun-abi, runc, lxc, pve, raw crun, raw runc
    const cells = (id: string) => row(id).slice(3).map((c) => c.replace(/ \|$/, ''));
    assert.deepEqual(cells(first!.id).filter((_, i) => i !== 5), ['pass', 'not run', 'not run', 'not run', 'see ¹', 'not run']);
    assert.match(cells(first!.id)[5]!, /^\*\*fail\*\* \[1\]$/);
    assert.match(cells(second!.id)[0]!, /^fail, as raw crun \[1\]$/, 'the same reason, the same note');
    assert.match(cells(second!.id)[2]!, /^\*\*fail\*\* \[2\]$/);
    assert.match(cells(third!.id)[3]!, /^skip \[3\]$/);
  });

  test('the notes give each reason once, with its columns, escaped for the table', () => {
    assert.match(doc, /^1\. raw crun, crun-cli: crun says no$/m);
    assert.match(doc, /^2\. runc: berth broke it$/m);
    assert.match(doc, /^3\. lxc: no such thing \\\| here$/m);
    assert.match(doc, /^Ran 2026-01-01T00:00:00.000Z on kernel k1\.$/m);
  });

  test('lists every MUST, once', () => {
    assert.deepEqual(tableIds(doc), MUSTS.map((m) => m.id));
  });
});
