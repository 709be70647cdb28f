// docs/grafana/berth-dashboard.json uses only metrics berth serves: every metric name in every
// query is one that BerthMetrics registers (histograms with their _bucket/_sum/_count series),
// and every metric berth documents as its own appears on the dashboard.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BerthMetrics } from '../../../src/telemetry/metrics.js';
import { tempDir } from '../../helpers/bundle.js';
import { REPO_ROOT } from '../../helpers/paths.js';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function queries(dashboard: { panels: Panel[]; templating: { list: Array<{ query?: unknown; definition?: string }> } }): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) if (v.definition) out.push({ where: 'a template variable', expr: v.definition });
  return out;
}

/** Metric names in a PromQL expression: identifiers of berth's, the process' or Node's families. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:berth|process|nodejs)_[a-zA-Z0-9_]*)/g)].map((m) => m[1]!);
}

test('every query of the Grafana dashboard uses only metrics berth exports, and uses all of berth\'s own', async (t) => {
  const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/grafana/berth-dashboard.json'), 'utf8'));
  const tmp = tempDir();
  t.after(tmp.remove);
  const metrics = new BerthMetrics({ stateDir: tmp.path, version: '1', backends: ['runc'], containers: async () => [], imageCacheBytes: async () => 0 });
  const exported = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    exported.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(m.name + suffix);
  }
  const all = queries(dashboard);
  assert.ok(all.length >= 15, `the dashboard has queries (${all.length})`);
  const used = new Set<string>();
  for (const { where, expr } of all) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${where}: "${expr}" names no berth metric`);
    for (const name of names) {
      assert.ok(exported.has(name), `${where}: ${name} is not a metric berth exports`);
      used.add(name.replace(/_(bucket|sum|count)$/, ''));
    }
    // Balanced brackets: a cheap guard against a broken query.
    for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']] as const) assert.equal(expr.split(open).length, expr.split(close).length, `${where}: unbalanced ${open}${close} in ${expr}`);
  }
  const own = [...exported].filter((n) => n.startsWith('berth_') && !/_(bucket|sum|count)$/.test(n) && n !== 'berth_operation_duration_seconds');
  assert.deepEqual(own.filter((n) => !used.has(n)), [], 'berth metrics missing from the dashboard');
  assert.ok(used.has('berth_operation_duration_seconds'));
});
