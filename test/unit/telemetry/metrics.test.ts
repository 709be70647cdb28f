// Aggregation of the journal into Prometheus metrics, and the HTTP server's rules (listen
// addresses, bearer token, health endpoints), against a temp root and a real node:http server.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { OperationOutcome } from '../../../src/core/channels.js';
import { appendRecord, journalDir, segmentName } from '../../../src/telemetry/journal.js';
import { BerthMetrics, type ContainerSummary } from '../../../src/telemetry/metrics.js';
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
  return new BerthMetrics({ root, version: '9.9.9', backends: ['crun', 'runc'], containers: async () => containers, processMetrics: false });
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
