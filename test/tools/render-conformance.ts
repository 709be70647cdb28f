// Renders docs/conformance.md from the conformance suite's results:
//   node dist/test/tools/render-conformance.js RESULTS.json [OUT.md]   (OUT defaults to docs/conformance.md)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConformanceResults } from '../helpers/conformance-musts.js';
import { renderConformance } from '../helpers/conformance-table.js';
import { REPO_ROOT } from '../helpers/paths.js';

const [resultsFile, outFile = join(REPO_ROOT, 'docs/conformance.md')] = process.argv.slice(2);
if (!resultsFile) {
  process.stderr.write('usage: render-conformance RESULTS.json [OUT.md]\n');
  process.exit(2);
}
const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as ConformanceResults;
writeFileSync(outFile, renderConformance(results));
process.stdout.write(`wrote ${outFile}\n`);
