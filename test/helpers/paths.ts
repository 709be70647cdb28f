// Where things are, from the compiled test's point of view (dist/test/helpers/*.js).
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
export const BERTH_BIN = resolve(REPO_ROOT, 'bin/berth');
export const OCI_SCHEMA_DIR = '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';
