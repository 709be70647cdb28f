// `berth state` and `berth --version` must stay lean (bench/scenarios/startup.ts measures them):
// they must not load telemetry, core/channels or prom-client, which only the verbs that change
// containers (the journal) and `serve` (the metrics) load; nor OpenTelemetry, which any verb
// loads only when an OTLP endpoint is configured. Checked on the real CLI with a module
// resolve hook that writes down every module Node loads.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readProcStat } from '../../src/core/proc.js';
import { ContainerStore } from '../../src/runtime/container-store.js';
import { tempDir } from '../helpers/bundle.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { berthStateDir } from '../../src/core/state-root.js';

const BERTH_JS = join(REPO_ROOT, 'dist/src/bin/berth.js');

function loadedModules(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const log = join(dir, `modules-${args.join('-').replace(/\W+/g, '_')}.txt`);
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MODULE_LOG, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  execFileSync(process.execPath, ['--import', join(dir, 'register.mjs'), BERTH_JS, ...args], { env: { ...withoutOtel(process.env), ...env, MODULE_LOG: log }, stdio: ['ignore', 'pipe', 'pipe'] });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

/** The test's own environment may name a collector: the plain calls must run without one. */
function withoutOtel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('OTEL_') && k !== 'TRACEPARENT'));
}

const heavy = (modules: string[]): string[] => modules.filter((u) => /\/src\/telemetry\/|\/src\/core\/channels\.js$|\/node_modules\/prom-client\/|^node:diagnostics_channel$/.test(u));

test('state and --version load no telemetry, channels or prom-client; delete does load the journal', async (t) => {
  const tmp = tempDir('berth-startup-imports-');
  t.after(tmp.remove);
  const root = join(tmp.path, 'root');
  // A running container whose "init" is this test process: state reads the record and /proc only.
  const store = new ContainerStore(berthStateDir(root));
  const lock = await store.lockForCreate('c1');
  store.write({
    version: 1, id: 'c1', backend: 'crun', backendReason: 'test', bundle: tmp.path, rootfs: tmp.path,
    created: new Date().toISOString(), owner: 'root', annotations: {},
    pid: process.pid, pidStartTime: readProcStat(process.pid)!.startTime, started: true,
  });
  lock.release();

  const state = loadedModules(tmp.path, ['--root', root, 'state', 'c1']);
  assert.ok(state.some((u) => u.endsWith('/dist/src/runtime/runtime.js')), 'the hook sees the modules berth state loads');
  assert.deepEqual(heavy(state), []);
  assert.deepEqual(heavy(loadedModules(tmp.path, ['--version'])), []);
  // Nor backend detection (libcrun's ELF reading, binary lookup), zod or koffi: state reads a record.
  const backendWork = state.filter((u) => /\/src\/backends\/(availability|libcrun\/|oci-cli\/)|\/node_modules\/(zod|koffi)\//.test(u));
  assert.deepEqual(backendWork, []);
  // The contrast: a verb that changes containers loads the journal (delete --force of an unknown id succeeds).
  const del = loadedModules(tmp.path, ['--root', root, 'delete', '--force', 'nosuch']);
  assert.ok(heavy(del).some((u) => u.endsWith('/dist/src/telemetry/journal.js')), `delete loads the journal: ${heavy(del).join(', ')}`);
  // OpenTelemetry only with an OTLP endpoint: not for state, nor for a verb that changes containers.
  const otel = (modules: string[]): string[] => modules.filter((u) => /\/node_modules\/@opentelemetry\/|\/src\/telemetry\/tracing\.js$|\/src\/cli\/tracing\.js$/.test(u));
  assert.deepEqual(otel(state), []);
  assert.deepEqual(otel(del), []);
  const traced = loadedModules(tmp.path, ['--root', root, 'delete', '--force', 'nosuch'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
  assert.ok(otel(traced).some((u) => u.includes('/node_modules/@opentelemetry/sdk-trace/')), 'with an endpoint, the SDK is loaded');
});
