// The CLI surface a person or a tool sees: help for every verb, version, spec, features.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BACKEND_NAMES, CONCRETE_BACKENDS } from '../../src/backends/registry.js';
import { VERBS } from '../../src/cli/verbs.js';
import { berth } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { validateConfig } from '../helpers/oci-schema.js';
import { REPO_ROOT } from '../helpers/paths.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('help', () => {
  for (const verb of Object.keys(VERBS)) {
    test(`berth ${verb} --help`, async () => {
      const r = await berth([verb, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: berth \\[global options\\] ${verb}\\b`));
      assert.match(r.stdout, /Options:\n/);
    });
  }
  test('berth --help and berth help list every verb; no verb is a usage error', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await berth(args);
      assert.equal(r.code, 0);
      for (const verb of Object.keys(VERBS)) assert.match(r.stdout, new RegExp(`^  ${verb}\\s`, 'm'));
    }
    assert.equal((await berth([])).code, 2);
    assert.equal((await berth(['help', 'create'])).stdout, (await berth(['create', '--help'])).stdout);
  });
});

describe('version', () => {
  test('--version prints berth and the OCI spec version', async () => {
    const r = await berth(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `berth version ${pkg.version}\nspec: 1.0.2\n`);
  });
  test('version adds each backend', { skip: missing('crun', 'runc') }, async () => {
    const r = await berth(['version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^crun-cli: crun version 1\.\d+.* \(\/.*crun\)$/m);
    assert.match(r.stdout, /^crun-abi: /m);
    assert.match(r.stdout, /^runc: runc version 1\.\d+.* \(\/.*runc\)$/m);
    // Every backend of the registry, in its order, each once (pve: unavailable without a node).
    const names = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0]);
    assert.deepEqual(names, CONCRETE_BACKENDS);
  });
  test('help lists every backend for --runtime, and doctor checks each', async () => {
    const help = (await berth(['--help'])).stdout;
    for (const name of BACKEND_NAMES) assert.match(help, new RegExp(`--runtime NAME .*\\b${name}\\b`), help);
    const doctor = JSON.parse((await berth(['doctor', '--format', 'json'])).stdout) as { checks: Array<{ what: string }> };
    for (const name of CONCRETE_BACKENDS) assert.ok(doctor.checks.some((c) => c.what === `backend ${name}`), `doctor checks backend ${name}`);
  });
});

describe('spec', () => {
  test('writes a default config.json that the runtime-spec schema accepts, and never overwrites one', async (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    assert.equal((await berth(['spec', '--bundle', tmp.path])).code, 0);
    const config = JSON.parse(readFileSync(join(tmp.path, 'config.json'), 'utf8')) as unknown;
    assert.equal(validateConfig()(config), undefined);
    const again = await berth(['spec'], { cwd: tmp.path });
    assert.equal(again.code, 3);
    assert.match(again.stderr, /config\.json already exists/);
  });
});

describe('features', { skip: missing('crun', 'runc') }, () => {
  test('describes the backend new containers get, annotated with berth facts', async () => {
    const crun = JSON.parse((await berth(['features'])).stdout) as Record<string, any>;
    assert.equal(crun.ociVersionMin, '1.0.0');
    assert.ok(Array.isArray(crun.hooks) && crun.hooks.includes('prestart'));
    assert.equal(crun.annotations['run.berth.default-backend'], 'crun');
    assert.equal(crun.annotations['run.berth.version'], pkg.version);
    const runc = JSON.parse((await berth(['--runtime', 'runc', 'features'])).stdout) as Record<string, any>;
    assert.equal(runc.annotations['run.berth.default-backend'], 'runc');
    // runc has a features verb of its own: its answer is the base.
    assert.ok(Object.keys(runc.annotations).some((k) => k.startsWith('io.github.seccomp') || k.startsWith('org.opencontainers.runc')));
  });
});
