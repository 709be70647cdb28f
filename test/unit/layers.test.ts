// The layering rule of DESIGN.md, checked on the sources: cli | shim → runtime → backends | storage |
// images | telemetry → core (images → storage). A layer imports only from itself and the layers below it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';

const SRC = join(REPO_ROOT, 'src');

/** Which top-level directories of src/ each layer may import from (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  bin: ['cli', 'shim', 'core'],
  cli: ['runtime', 'backends', 'storage', 'images', 'telemetry', 'core'],
  shim: ['runtime', 'backends', 'storage', 'images', 'telemetry', 'core'],
  runtime: ['backends', 'storage', 'images', 'telemetry', 'core'],
  backends: ['core'],
  images: ['storage', 'core'],
  storage: ['core'],
  telemetry: ['core'],
  core: [],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('layers import downward only', () => {
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const layer = relative(SRC, file).split('/')[0]!;
    const allowed = ALLOWED[layer];
    assert.ok(allowed, `src/${layer} is not a known layer: add it to ALLOWED in this test`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(SRC, resolve(dirname(file), m[1]!)).split('/')[0]!;
      if (target !== layer && !allowed.includes(target)) violations.push(`${relative(REPO_ROOT, file)} imports ${m[1]} (src/${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the ttrpc transport and the generated messages stand alone: nothing of berth outside src/shim', () => {
  const violations: string[] = [];
  let seen = 0;
  for (const dir of ['shim/ttrpc', 'shim/proto']) {
    for (const file of sources(join(SRC, dir))) {
      // The generated code quotes with ", berth's own with '.
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*(["'])(\.{1,2}\/[^"']+)\1/g)) {
        seen++;
        const target = relative(join(SRC, 'shim'), resolve(dirname(file), m[2]!));
        if (target.startsWith('..')) violations.push(`${relative(REPO_ROOT, file)} imports ${m[2]}`);
      }
    }
  }
  assert.ok(seen >= 10, `found only ${seen} relative imports: the pattern misses them`);
  assert.deepEqual(violations, []);
});
