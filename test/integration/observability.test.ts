// Logs, traces and the new metrics through the real CLI and real runtimes: the last log line of
// a failing create carries the whole cause chain; one trace id across a create (continuing
// TRACEPARENT), exported over OTLP/HTTP to a receiver started here; crun (auto) falling back
// is counted; live containers' cgroup figures are read from their real cgroups.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Runtime } from '../../src/runtime/runtime.js';
import { appendRecord, JournalReader, journalDir, segmentName } from '../../src/telemetry/journal.js';
import { BerthMetrics } from '../../src/telemetry/metrics.js';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { freePort } from '../helpers/daemon.js';
import { missing, pathWithout } from '../helpers/host.js';
import { berthStateDir } from '../../src/core/state-root.js';

const skip = missing('crun', 'runc', 'busybox');

function jsonLines(file: string): Record<string, any>[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status?: { code?: number };
}

/** A small OTLP/HTTP receiver: collects the spans of every JSON export request. */
async function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; requests: string[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const doc = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, spans, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('observability through the real CLI', { skip }, () => {
  const tmp = tempDir('berth-obs-');
  const root = join(tmp.path, 'root');
  let bundle: string;
  let badBundle: string;
  before(() => {
    bundle = makeBusyboxBundle(join(tmp.path, 'bundle'));
    badBundle = makeBusyboxBundle(join(tmp.path, 'bad'), { args: ['/bin/nosuch-program'] });
  });
  after(async () => {
    for (const id of existsSync(join(berthStateDir(root), 'containers')) ? readdirSync(join(berthStateDir(root), 'containers')) : []) await berth(['--root', root, 'delete', '--force', id]);
    tmp.remove();
  });

  test('a failing create through crun: the last log line has op, id, backend and the whole cause chain; nothing is left', async () => {
    const logFile = join(tmp.path, 'fail.log');
    const r = await berth(['--root', root, '--log', logFile, '--log-format', 'json', '--runtime', 'crun-cli', 'create', '--bundle', badBundle, 'bad1']);
    assert.equal(r.code, 1, r.stderr);
    const last = jsonLines(logFile).at(-1)!;
    assert.equal(last.level, 'error');
    assert.match(last.msg, /crun create of container "bad1" failed: .*nosuch-program/);
    assert.ok(!Number.isNaN(Date.parse(last.time)));
    assert.equal(last.op, 'create');
    assert.equal(last.id, 'bad1');
    assert.equal(last.backend, 'crun-cli');
    assert.equal(last.err.type, 'BackendError');
    assert.equal(last.err.code, 'BERTH_ERR_BACKEND');
    assert.equal(last.err.message, last.msg);
    const [cause] = last.err.causes as Array<Record<string, any>>;
    assert.equal(cause!.type, 'ToolError');
    assert.equal(cause!.code, 'BERTH_ERR_TOOL');
    assert.equal(cause!.exit_code, 1);
    assert.match(cause!.argv[0], /\/crun$/);
    assert.ok(cause!.argv.includes('create') && cause!.argv.at(-1) === 'bad1', JSON.stringify(cause!.argv));
    assert.match(cause!.stderr, /nosuch-program/);
    assert.equal(existsSync(join(berthStateDir(root), 'containers', 'bad1')), false, 'no record left');
  });

  test('one trace id across a create, continuing TRACEPARENT; spans for the operation, the backend and crun; exported over OTLP/HTTP', async (t) => {
    const receiver = await otlpReceiver();
    t.after(receiver.close);
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, TRACEPARENT: `00-${callerTrace}-${callerSpan}-01` };
    const logFile = join(tmp.path, 'trace.log');
    await berthOk(root, ['--log', logFile, '--log-format', 'json', '--debug', '--runtime', 'crun-cli', 'create', '--bundle', bundle, 'traced1'], { env });
    // berth flushed before it exited: the spans are here already.
    assert.ok(receiver.requests.length > 0, 'an export arrived');
    assert.match(receiver.requests[0]!, /^POST \/v1\/traces application\/json/);
    const spans = [...receiver.spans];
    assert.ok(spans.length >= 4, spans.map((s) => s.name).join(', '));
    assert.deepEqual([...new Set(spans.map((s) => s.traceId))], [callerTrace], 'every span is in the caller\'s trace');
    const byName = (name: string): OtlpSpan => {
      const s = spans.find((x) => x.name === name);
      assert.ok(s, `a span ${name} among ${spans.map((x) => x.name).join(', ')}`);
      return s;
    };
    const call = byName('berth create');
    assert.equal(call.parentSpanId, callerSpan, 'the call continues the caller\'s span');
    const op = byName('create');
    assert.equal(op.parentSpanId, call.spanId);
    const backendCreate = byName('backend.create');
    assert.equal(backendCreate.parentSpanId, op.spanId);
    const tool = spans.find((s) => s.name === 'exec crun' && s.parentSpanId === backendCreate.spanId);
    assert.ok(tool, 'crun create is a child span of backend.create');
    const argv = tool.attributes.find((a) => a.key === 'process.command_args')?.value as { arrayValue?: { values: Array<{ stringValue: string }> } };
    assert.ok(argv.arrayValue?.values.some((v) => v.stringValue === 'create'));
    const attr = (s: OtlpSpan, key: string): unknown => Object.values(s.attributes.find((a) => a.key === key)?.value ?? {})[0];
    assert.equal(attr(op, 'berth.container.id'), 'traced1');
    assert.equal(attr(op, 'berth.backend'), 'crun-cli');
    // The log lines written inside the operation carry its trace.
    const traced = jsonLines(logFile).filter((l) => l.trace_id !== undefined);
    assert.ok(traced.length > 0, 'debug lines inside the operation carry trace ids');
    for (const l of traced) {
      assert.equal(l.trace_id, callerTrace);
      assert.ok(spans.some((s) => s.spanId === l.span_id), `span_id ${l.span_id} is one of the exported spans`);
    }

    // Without TRACEPARENT, a call is a trace of its own; a failure marks its spans.
    receiver.spans.length = 0;
    const { TRACEPARENT: _drop, ...noParent } = env;
    const dup = await berth(['--root', root, '--runtime', 'crun-cli', 'create', '--bundle', bundle, 'traced1'], { env: noParent });
    assert.equal(dup.code, 5, dup.stderr);
    const ids = new Set(receiver.spans.map((s) => s.traceId));
    assert.equal(ids.size, 1);
    assert.notEqual([...ids][0], callerTrace);
    const failed = receiver.spans.find((s) => s.name === 'create');
    assert.equal(failed?.status?.code, 2, 'the failed operation\'s span has status ERROR');
    assert.equal(receiver.spans.find((s) => s.name === 'berth create')?.parentSpanId ?? '', '', 'a root span');
    await berthOk(root, ['delete', '--force', 'traced1'], { env: noParent });
  });

  test('a collector that cannot be reached is a warning: the operation succeeds and is journalled', async () => {
    const port = await freePort(); // nothing listens there
    const r = await berth(['--root', root, '--log-format', 'json', 'delete', '--force', 'no-collector'], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    });
    assert.equal(r.code, 0, r.stderr);
    const warning = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>).find((l) => l.msg === 'cannot export traces');
    assert.equal(warning?.level, 'warn', r.stderr);
    assert.equal(warning?.err.code, 'ECONNREFUSED');
    const { records } = new JournalReader(berthStateDir(root)).scan();
    assert.ok(records.some((rec) => rec.op === 'delete' && rec.id === 'no-collector' && rec.result === 'ok'));
  });

  test('crun (auto) falling back to runc is journalled and counted; the selection reason is "auto"', async () => {
    // No crun on PATH (a wrong configured path is an error since 0.9, never a route to runc).
    await berthOk(root, ['create', '--bundle', bundle, 'fb1'], { env: { ...process.env, PATH: pathWithout(tmp.path, 'crun') } });
    try {
      const runtime = new Runtime({ root, debug: false, systemdCgroup: false, runtimeOverride: undefined, configPath: undefined });
      const list = await runtime.list();
      assert.equal(list.find((c) => c.id === 'fb1')?.backend, 'runc');
      const metrics = new BerthMetrics({ stateDir: runtime.stateDir, version: 't', backends: ['runc'], containers: () => runtime.list(), processMetrics: false });
      const text = await metrics.scrape();
      assert.equal(sample(text, 'berth_backend_fallbacks_total{from="crun-cli",to="runc"}'), 1, text);
      assert.equal(sample(text, 'berth_backend_selected_info{backend="runc",reason="auto"}'), 1);
    } finally {
      await berthOk(root, ['delete', '--force', 'fb1']);
    }
  });

  for (const backend of ['crun-cli', 'runc']) {
    test(`cgroup figures of running ${backend} containers come from their cgroups`, async () => {
      const id = `cg-${backend}`;
      await berthOk(root, ['--runtime', backend, 'run', '--detach', '--bundle', bundle, id]);
      try {
        const runtime = new Runtime({ root, debug: false, systemdCgroup: false, runtimeOverride: undefined, configPath: undefined });
        const metrics = new BerthMetrics({ stateDir: runtime.stateDir, version: 't', backends: [backend], containers: () => runtime.list(), processMetrics: false });
        const text = await metrics.scrape();
        const labels = `{id="${id}",backend="${backend}"}`;
        const pids = sample(text, `berth_container_pids${labels}`);
        const memory = sample(text, `berth_container_memory_bytes${labels}`);
        const cpu = sample(text, `berth_container_cpu_seconds_total${labels}`);
        assert.ok(pids !== undefined && pids >= 1 && pids < 10, `pids ${pids}\n${text}`);
        assert.ok(memory !== undefined && memory > 0, `memory ${memory}`);
        assert.ok(cpu !== undefined && cpu >= 0 && cpu < 60, `cpu ${cpu}`);
        // The same figure, read independently: the cgroup's own pids.current via the init's /proc entry.
        const pid = (await runtime.state(id)).pid;
        const pidsLine = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:pids:/.test(l));
        if (pidsLine) assert.equal(pids, Number(readFileSync(`/sys/fs/cgroup/pids${pidsLine.split(':')[2]}/pids.current`, 'utf8')));
      } finally {
        await berthOk(root, ['delete', '--force', id]);
      }
    });
  }
});

describe('doctor: storage, state and journal health, Proxmox', { skip: missing('crun', 'runc') }, () => {
  const tmp = tempDir('berth-obs-doctor-');
  after(tmp.remove);

  interface Report {
    storage: { driver: string; location: string; availableBytes: number; problem?: string };
    state: { exists: boolean; writable: boolean; containers: number; unreadable: string[] };
    journal: { segments: number; records: number; corruptLines: number; bytes: number };
    proxmox: { configured: boolean; reachable?: boolean; message: string };
    checks: Array<{ level: string; what: string; message: string }>;
    status: 'healthy' | 'warnings' | 'failures';
  }
  const exitFor = { healthy: 0, warnings: 1, failures: 2 };

  async function doctor(root: string): Promise<{ code: number | null; report: Report }> {
    const config = join(tmp.path, 'config.toml');
    mkdirSync(join(tmp.path, 'storage'), { recursive: true });
    writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${join(tmp.path, 'storage')}"\n`);
    const r = await berth(['--root', root, '--config', config, 'doctor', '--format', 'json']);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(r.code, exitFor[report.status], 'the exit code follows the status');
    return { code: r.code, report };
  }
  const check = (report: Report, what: string): { level: string; message: string } => report.checks.find((c) => c.what === what)!;

  test('a sound root: storage free space, state writable and readable, journal without damage, Proxmox not configured', async () => {
    const root = join(tmp.path, 'sound');
    appendRecord(berthStateDir(root), { op: 'create', id: 'a', backend: 'runc', result: 'ok', code: undefined, durationS: 0.01, time: new Date().toISOString() });
    const { report } = await doctor(root);
    assert.equal(report.storage.driver, 'dir');
    assert.equal(report.storage.location, join(tmp.path, 'storage'));
    assert.ok(report.storage.availableBytes > 0);
    assert.equal(check(report, 'storage').level, 'ok');
    assert.deepEqual([report.state.exists, report.state.writable, report.state.unreadable], [true, true, []]);
    assert.equal(check(report, 'state').level, 'ok');
    assert.deepEqual([report.journal.segments, report.journal.records, report.journal.corruptLines], [1, 1, 0]);
    assert.equal(check(report, 'journal').level, 'ok');
    assert.equal(report.proxmox.configured, false);
    assert.equal(report.proxmox.reachable, undefined);
    assert.match(report.proxmox.message, /^not configured: pct is not on PATH/);
  });

  test('a torn journal line and an unreadable record are warnings (exit 1 at least)', async () => {
    const root = join(tmp.path, 'damaged');
    appendRecord(berthStateDir(root), { op: 'create', id: 'a', backend: 'runc', result: 'ok', code: undefined, durationS: 0.01, time: new Date().toISOString() });
    appendFileSync(join(journalDir(berthStateDir(root)), segmentName(1)), '{"v":1,"time":"2026-'); // torn by a crash
    mkdirSync(join(berthStateDir(root), 'containers', 'broken'), { recursive: true });
    writeFileSync(join(berthStateDir(root), 'containers', 'broken', 'record.json'), '{"version":1,"id":');
    const { code, report } = await doctor(root);
    assert.ok(code === 1 || code === 2, String(code));
    assert.equal(report.journal.corruptLines, 1);
    assert.equal(check(report, 'journal').level, 'warn');
    assert.match(check(report, 'journal').message, /^1 torn or damaged lines in /);
    assert.deepEqual(report.state.unreadable, ['broken']);
    assert.equal(check(report, 'state').level, 'warn');
  });
});
