// Aggregation of the journal into Prometheus metrics, and the HTTP server's rules (listen
// addresses, bearer token, health endpoints), against a temp root and a real node:http server.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { OperationOutcome } from '../../../src/core/channels.js';
import { appendEvent, appendRecord, journalDir, segmentName } from '../../../src/telemetry/journal.js';
import { BerthMetrics, selectionReason, type ContainerSummary } from '../../../src/telemetry/metrics.js';
import { isLoopback, parseListen, readTokenFile, startMetricsServer } from '../../../src/telemetry/server.js';
import { tempDir } from '../../helpers/bundle.js';

function outcome(over: Partial<OperationOutcome> = {}): OperationOutcome {
  return { op: 'create', id: 'c1', backend: 'crun', result: 'ok', code: undefined, durationS: 0.02, time: new Date().toISOString(), ...over };
}

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function metricsFor(root: string, containers: ContainerSummary[] = []): BerthMetrics {
  return new BerthMetrics({ stateDir: root, version: '9.9.9', backends: ['crun', 'runc'], containers: async () => containers, processMetrics: false });
}

test('operations, errors and durations are aggregated from the journal, incrementally', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const m = metricsFor(tmp.path);
  appendRecord(tmp.path, outcome({ durationS: 0.02 }));
  appendRecord(tmp.path, outcome({ durationS: 0.2 }));
  appendRecord(tmp.path, outcome({ result: 'error', code: 'BERTH_ERR_EXISTS', durationS: 0.003 }));
  appendRecord(tmp.path, outcome({ op: 'delete', backend: undefined, result: 'error', code: 'BERTH_ERR_NOT_FOUND' }));
  let text = await m.scrape();
  assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="ok"}'), 2);
  assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="error"}'), 1);
  assert.equal(sample(text, 'berth_operations_total{op="delete",backend="none",result="error"}'), 1);
  assert.equal(sample(text, 'berth_operation_errors_total{op="create",backend="crun",code="BERTH_ERR_EXISTS"}'), 1);
  assert.equal(sample(text, 'berth_operation_duration_seconds_count{op="create",backend="crun",result="ok"}'), 2);
  assert.equal(sample(text, 'berth_operation_duration_seconds_bucket{le="0.025",op="create",backend="crun",result="ok"}'), 1);
  assert.equal(sample(text, 'berth_operation_duration_seconds_bucket{le="0.25",op="create",backend="crun",result="ok"}'), 2);
  assert.ok(Math.abs(sample(text, 'berth_operation_duration_seconds_sum{op="create",backend="crun",result="ok"}')! - 0.22) < 1e-9);
  assert.equal(sample(text, 'berth_journal_records_total'), 4);
  assert.equal(sample(text, 'berth_journal_corrupt_lines_total'), 0);
  assert.equal(sample(text, 'berth_build_info{version="9.9.9"}'), 1);
  // A second scrape adds only what is new.
  appendRecord(tmp.path, outcome());
  text = await m.scrape();
  assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="ok"}'), 3);
  text = await m.scrape();
  assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="ok"}'), 3);
});

test('containers are counted by backend and status at scrape time, zeros included', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const containers: ContainerSummary[] = [
    { backend: 'crun', status: 'running' },
    { backend: 'crun', status: 'running' },
    { backend: 'runc', status: 'created' },
  ];
  const m = metricsFor(tmp.path, containers);
  let text = await m.scrape();
  assert.equal(sample(text, 'berth_containers{backend="crun",status="running"}'), 2);
  assert.equal(sample(text, 'berth_containers{backend="runc",status="created"}'), 1);
  assert.equal(sample(text, 'berth_containers{backend="crun",status="stopped"}'), 0);
  containers.splice(0);
  text = await m.scrape();
  assert.equal(sample(text, 'berth_containers{backend="crun",status="running"}'), 0, 'a removed container is no longer counted');
});

test('corrupt and torn lines are counted; the valid records around them still count', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, outcome());
  const path = join(journalDir(tmp.path), segmentName(1));
  appendFileSync(path, 'garbage\n{"v":1,"op":\n');
  appendRecord(tmp.path, outcome());
  appendFileSync(path, '{"v":1,"time":"2026-'); // torn at the end
  const m = metricsFor(tmp.path);
  let text = await m.scrape();
  assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="ok"}'), 2);
  assert.equal(sample(text, 'berth_journal_corrupt_lines_total'), 2);
  text = await m.scrape();
  assert.equal(sample(text, 'berth_journal_corrupt_lines_total'), 3, 'the torn tail, once it is clear no writer finishes it');
});

test('--listen: loopback default form, IPv6, unix sockets; no implicit all-interfaces address', () => {
  assert.deepEqual(parseListen('127.0.0.1:9190'), { kind: 'tcp', host: '127.0.0.1', port: 9190 });
  assert.deepEqual(parseListen('[::1]:80'), { kind: 'tcp', host: '::1', port: 80 });
  assert.deepEqual(parseListen('unix:/run/berth.sock'), { kind: 'unix', path: '/run/berth.sock' });
  assert.deepEqual(parseListen('0.0.0.0:9190'), { kind: 'tcp', host: '0.0.0.0', port: 9190 });
  for (const bad of [':9190', '9190', 'example.com:80', '127.0.0.1:70000', '127.0.0.1', 'unix:relative', '[::1]']) {
    assert.throws(() => parseListen(bad), { code: 'BERTH_ERR_INVALID_ARGUMENT' }, bad);
  }
  assert.equal(isLoopback(parseListen('127.0.0.1:1')), true);
  assert.equal(isLoopback(parseListen('localhost:1')), true);
  assert.equal(isLoopback(parseListen('[::1]:1')), true);
  assert.equal(isLoopback(parseListen('0.0.0.0:1')), false);
  assert.equal(isLoopback(parseListen('[::]:1')), false);
});

test('token file: one token, trailing newline dropped, warns when others may read it', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const f = join(tmp.path, 'token');
  writeFileSync(f, 's3cret\n', { mode: 0o600 });
  assert.deepEqual(readTokenFile(f), { token: 's3cret', warning: undefined });
  chmodSync(f, 0o644);
  assert.match(readTokenFile(f).warning ?? '', /readable by group or others/);
  assert.doesNotMatch(readTokenFile(f).warning ?? '', /s3cret/, 'the token is never in a message');
  writeFileSync(f, '\n');
  assert.throws(() => readTokenFile(f), { code: 'BERTH_ERR_INVALID_ARGUMENT' });
  assert.throws(() => readTokenFile(join(tmp.path, 'missing')), { code: 'BERTH_ERR_INVALID_ARGUMENT' });
});

test('the server: /metrics needs the bearer token when one is set; /healthz and /readyz do not', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, outcome());
  const server = await startMetricsServer({ listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: 'tok', metrics: metricsFor(tmp.path) });
  t.after(() => server.close());
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const get = (path: string, auth?: string) => fetch(server.url + path, { headers: auth ? { authorization: auth } : {} });
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 200);
  assert.equal((await get('/metrics')).status, 401);
  assert.equal((await get('/metrics', 'Bearer wrong')).status, 401);
  const ok = await get('/metrics', 'Bearer tok');
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(await ok.text(), 'berth_operations_total{op="create",backend="crun",result="ok"}'), 1);
  assert.equal((await get('/nope')).status, 404);
  assert.equal((await fetch(server.url + '/metrics', { method: 'POST' })).status, 405);
});

test('storage operations, image cache hits and misses, and backend fallbacks come from the journal\'s event lines', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const m = metricsFor(tmp.path);
  let text = await m.scrape();
  assert.equal(sample(text, 'berth_image_cache_hits_total'), 0, 'reported from the start');
  assert.equal(sample(text, 'berth_image_cache_misses_total'), 0);
  assert.equal(text.includes('berth_image_cache_bytes'), false, 'no cache size without the images layer\'s hook');
  appendEvent(tmp.path, { kind: 'storage', driver: 'zfs', op: 'cloneTemplate', result: 'ok', durationS: 0.01 });
  appendEvent(tmp.path, { kind: 'storage', driver: 'zfs', op: 'cloneTemplate', result: 'ok', durationS: 0.01 });
  appendEvent(tmp.path, { kind: 'storage', driver: 'dir', op: 'destroy', result: 'error', durationS: 0.01 });
  appendEvent(tmp.path, { kind: 'image-cache', result: 'miss', digest: 'sha256:a' });
  appendEvent(tmp.path, { kind: 'image-cache', result: 'hit', digest: 'sha256:a' });
  appendEvent(tmp.path, { kind: 'image-cache', result: 'hit', digest: 'sha256:a' });
  appendEvent(tmp.path, { kind: 'fallback', from: 'crun-cli', to: 'runc', reason: 'crun-cli not usable (binary missing)' });
  text = await m.scrape();
  assert.equal(sample(text, 'berth_storage_operations_total{driver="zfs",op="cloneTemplate",result="ok"}'), 2);
  assert.equal(sample(text, 'berth_storage_operations_total{driver="dir",op="destroy",result="error"}'), 1);
  assert.equal(sample(text, 'berth_image_cache_hits_total'), 2);
  assert.equal(sample(text, 'berth_image_cache_misses_total'), 1);
  assert.equal(sample(text, 'berth_backend_fallbacks_total{from="crun-cli",to="runc"}'), 1);
  assert.equal(sample(text, 'berth_journal_records_total'), 7);
  assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="ok"}'), undefined, 'events are not operations');
});

test('berth_image_cache_bytes is read through its hook at each scrape', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  let bytes: number | undefined = 1234;
  const m = new BerthMetrics({ stateDir: tmp.path, version: '1', backends: [], containers: async () => [], processMetrics: false, imageCacheBytes: async () => bytes });
  assert.equal(sample(await m.scrape(), 'berth_image_cache_bytes'), 1234);
  bytes = 99;
  assert.equal(sample(await m.scrape(), 'berth_image_cache_bytes'), 99);
});

test('berth_backend_selected_info maps the recorded reasons to a small set of labels', async (t) => {
  assert.equal(selectionReason('--runtime flag'), 'flag');
  assert.equal(selectionReason('bundle annotation run.berth.runtime'), 'annotation');
  assert.equal(selectionReason('config route #2 (id_glob "web-*")'), 'route');
  assert.equal(selectionReason('configured default runtime'), 'default');
  assert.equal(selectionReason('configured default runtime named crun (auto): chose crun-cli (a one-shot command …), crun binary /usr/bin/crun'), 'auto');
  assert.equal(selectionReason('--runtime flag named crun (auto): chose runc, …'), 'auto');
  assert.equal(selectionReason('test'), 'other');
  const tmp = tempDir();
  t.after(tmp.remove);
  const containers: ContainerSummary[] = [
    { id: 'a', backend: 'runc', status: 'stopped', backendReason: '--runtime flag' },
    { id: 'b', backend: 'runc', status: 'stopped', backendReason: '--runtime flag' },
    { id: 'c', backend: 'crun-cli', status: 'stopped', backendReason: 'configured default runtime named crun (auto): chose crun-cli' },
  ];
  const m = metricsFor(tmp.path, containers);
  const text = await m.scrape();
  assert.equal(sample(text, 'berth_backend_selected_info{backend="runc",reason="flag"}'), 2);
  assert.equal(sample(text, 'berth_backend_selected_info{backend="crun-cli",reason="auto"}'), 1);
  containers.splice(0, 2);
  assert.equal(sample(await m.scrape(), 'berth_backend_selected_info{backend="runc",reason="flag"}'), undefined, 'gone with its containers');
});

test('per-container cgroup figures for live containers only, from their cgroups', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const cg = join(tmp.path, 'cg');
  const write = (path: string, text: string): void => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  };
  write(join(tmp.path, 'proc/100/cgroup'), '0::/c1\n');
  write(join(cg, 'c1/cpu.stat'), 'usage_usec 250000\n');
  write(join(cg, 'c1/memory.current'), '8192\n');
  write(join(cg, 'c1/pids.current'), '2\n');
  const m = new BerthMetrics({
    stateDir: tmp.path, version: '1', backends: ['runc'], processMetrics: false, mountinfo: () => `1 0 0:1 / ${cg} rw - cgroup2 cgroup2 rw`, procRoot: join(tmp.path, 'proc'),
    containers: async () => [
      { id: 'c1', backend: 'runc', status: 'running', pid: 100 },
      { id: 'c2', backend: 'runc', status: 'stopped', pid: 0 },
    ],
  });
  const text = await m.scrape();
  assert.equal(sample(text, 'berth_container_cpu_seconds_total{id="c1",backend="runc"}'), 0.25);
  assert.equal(sample(text, 'berth_container_memory_bytes{id="c1",backend="runc"}'), 8192);
  assert.equal(sample(text, 'berth_container_pids{id="c1",backend="runc"}'), 2);
  assert.equal(text.includes('id="c2"'), false, 'a stopped container has no figures');
  assert.equal(sample(text, 'berth_containers{backend="runc",status="running"}'), 1);
});
