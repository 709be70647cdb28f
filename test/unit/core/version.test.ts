import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_VERSION, OCI_SPEC_VERSION } from '../../../src/core/version.js';
import { REPO_ROOT } from '../../helpers/paths.js';

test('BERTH_VERSION equals the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(BERTH_VERSION, pkg.version);
});

test('versions are semver', () => {
  assert.match(BERTH_VERSION, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  assert.match(OCI_SPEC_VERSION, /^\d+\.\d+\.\d+$/);
});
