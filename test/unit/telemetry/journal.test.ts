// The operation journal: appends, rotation and pruning, torn and corrupt lines, incremental reads.
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { OperationOutcome } from '../../../src/core/channels.js';
import { MAX_LINE_BYTES, JournalReader, appendEvent, appendRecord, formatRecord, journalDir, parseRecord, segmentName } from '../../../src/telemetry/journal.js';
import { tempDir } from '../../helpers/bundle.js';

function outcome(over: Partial<OperationOutcome> = {}): OperationOutcome {
  return { op: 'create', id: 'c1', backend: 'crun', result: 'ok', code: undefined, durationS: 0.0123, time: '2026-11-26T10:00:00.000Z', ...over };
}

test('append writes one JSON line per outcome, readable back with every field', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, outcome());
  appendRecord(tmp.path, outcome({ op: 'delete', result: 'error', code: 'BERTH_ERR_NOT_FOUND', backend: undefined }));
  const files = readdirSync(journalDir(tmp.path));
  assert.deepEqual(files, [segmentName(1)]);
  const path = join(journalDir(tmp.path), files[0]!);
  assert.equal(statSync(path).mode & 0o777, 0o600, 'the journal is private to root');
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.deepEqual(JSON.parse(lines[0]!), { v: 1, time: '2026-11-26T10:00:00.000Z', op: 'create', id: 'c1', backend: 'crun', result: 'ok', duration_s: 0.0123, pid: process.pid });
  const { records, corrupt } = new JournalReader(tmp.path).scan();
  assert.equal(corrupt, 0);
  assert.deepEqual(
    records.map((r) => [r.op, r.backend, r.result, r.code]),
    [
      ['create', 'crun', 'ok', undefined],
      ['delete', undefined, 'error', 'BERTH_ERR_NOT_FOUND'],
    ],
  );
});

test('a line never exceeds PIPE_BUF, however long the id', () => {
  const line = formatRecord(outcome({ id: 'x'.repeat(5000) }));
  assert.ok(Buffer.byteLength(line) <= MAX_LINE_BYTES, `line is ${Buffer.byteLength(line)} bytes`);
  assert.ok(line.endsWith('\n'));
  const r = parseRecord(line.trimEnd());
  assert.ok(r && r.id.endsWith('…') && r.id.startsWith('xxxx'));
  const multibyte = formatRecord(outcome({ id: 'é'.repeat(3000) }));
  assert.ok(Buffer.byteLength(multibyte) <= MAX_LINE_BYTES);
  assert.ok(parseRecord(multibyte.trimEnd()), 'a cut inside a multi-byte character still parses');
});

test('segments rotate at the size limit and only the newest are kept', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const lineBytes = Buffer.byteLength(formatRecord(outcome()));
  const options = { segmentBytes: lineBytes * 3, keepSegments: 2 };
  const reader = new JournalReader(tmp.path);
  let seen = 0;
  for (let i = 0; i < 10; i++) {
    appendRecord(tmp.path, outcome(), options);
    seen += reader.scan().records.length; // a reader that keeps up loses nothing to pruning
  }
  assert.equal(seen, 10);
  const files = readdirSync(journalDir(tmp.path)).sort();
  // 10 lines of 3 a segment: segments 1..4; keep 2.
  assert.deepEqual(files, [segmentName(3), segmentName(4)]);
  for (const f of files) assert.ok(statSync(join(journalDir(tmp.path), f)).size <= options.segmentBytes);
  assert.equal(new JournalReader(tmp.path).scan().records.length, 4, 'a new reader sees what is kept: 3 + 1 lines');
});

test('the reader is incremental: each scan returns only what was appended since', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const reader = new JournalReader(tmp.path);
  assert.deepEqual(reader.scan(), { records: [], events: [], corrupt: 0 }, 'no journal yet is an empty journal');
  appendRecord(tmp.path, outcome({ id: 'a' }));
  appendRecord(tmp.path, outcome({ id: 'b' }));
  assert.deepEqual(reader.scan().records.map((r) => r.id), ['a', 'b']);
  assert.deepEqual(reader.scan().records, []);
  appendRecord(tmp.path, outcome({ id: 'c' }));
  assert.deepEqual(reader.scan().records.map((r) => r.id), ['c']);
});

test('a torn last line is left for one scan, then skipped and counted once', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, outcome({ id: 'a' }));
  const path = join(journalDir(tmp.path), segmentName(1));
  const whole = formatRecord(outcome({ id: 'torn' }));
  appendFileSync(path, whole.slice(0, 30)); // a crash in the middle of a write
  const reader = new JournalReader(tmp.path);
  const first = reader.scan();
  assert.deepEqual([first.records.map((r) => r.id), first.corrupt], [['a'], 0], 'an incomplete line may still be in flight: not yet counted');
  assert.deepEqual(reader.scan(), { records: [], events: [], corrupt: 1 }, 'unchanged since the last scan: torn');
  assert.deepEqual(reader.scan(), { records: [], events: [], corrupt: 0 }, 'counted once');
  appendRecord(tmp.path, outcome({ id: 'b' }));
  assert.deepEqual(reader.scan().records.map((r) => r.id), ['b']);
});

test('a record appended right after a torn fragment is recovered; the fragment is counted', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const path = join(journalDir(tmp.path), segmentName(1));
  appendRecord(tmp.path, outcome({ id: 'a' }));
  appendFileSync(path, formatRecord(outcome({ id: 'torn' })).slice(0, 40));
  appendRecord(tmp.path, outcome({ id: 'b' }));
  const { records, corrupt } = new JournalReader(tmp.path).scan();
  assert.deepEqual(records.map((r) => r.id), ['a', 'b']);
  assert.equal(corrupt, 1);
});

test('corrupt lines (garbage, wrong shape, bad JSON) are counted and skipped; the rest is read', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, outcome({ id: 'a' }));
  const path = join(journalDir(tmp.path), segmentName(1));
  appendFileSync(path, 'not json at all\n');
  appendFileSync(path, '{"v":1,"op":"create"}\n'); // no id, result, duration
  appendFileSync(path, '{"v":1,"op":"create","id":"x","result":"maybe","duration_s":1}\n');
  appendFileSync(path, '{"v":1,"op":"create","id":"x","result":"ok","duration_s":-1}\n');
  appendFileSync(path, '\u0000\u0000\u0000{"v":1,\n');
  appendFileSync(path, '{"v":2,"op":"create","id":"x","result":"ok","duration_s":1}\n'); // a future format
  appendRecord(tmp.path, outcome({ id: 'b' }));
  const { records, corrupt } = new JournalReader(tmp.path).scan();
  assert.deepEqual(records.map((r) => r.id), ['a', 'b']);
  assert.equal(corrupt, 6);
});

test('a journal replaced by a shorter file is read again from its start', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, outcome({ id: 'a' }));
  appendRecord(tmp.path, outcome({ id: 'b' }));
  const reader = new JournalReader(tmp.path);
  assert.equal(reader.scan().records.length, 2);
  writeFileSync(join(journalDir(tmp.path), segmentName(1)), formatRecord(outcome({ id: 'c' })));
  assert.deepEqual(reader.scan().records.map((r) => r.id), ['c']);
});

test('event lines: storage operations, image cache lookups and backend fallbacks, read beside operation lines', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  appendRecord(tmp.path, { op: 'create', id: 'a', backend: 'runc', result: 'ok', code: undefined, durationS: 0.01, time: new Date().toISOString() });
  appendEvent(tmp.path, { kind: 'storage', driver: 'dir', op: 'cloneTemplate', result: 'ok', durationS: 0.0123456789 });
  appendEvent(tmp.path, { kind: 'image-cache', result: 'miss', digest: 'sha256:abc' });
  appendEvent(tmp.path, { kind: 'fallback', from: 'crun-cli', to: 'runc', reason: 'x'.repeat(10_000) });
  const seg = join(journalDir(tmp.path), segmentName(1));
  // A line of a kind this berth does not know is skipped and counted, like a foreign version.
  appendFileSync(seg, '{"v":1,"kind":"gpu","time":"2026-11-26T10:00:00Z"}\n');
  for (const line of readFileSync(seg, 'utf8').split('\n').filter(Boolean)) assert.ok(Buffer.byteLength(line) + 1 <= MAX_LINE_BYTES, 'every line fits PIPE_BUF');
  const { records, events, corrupt } = new JournalReader(tmp.path).scan();
  assert.deepEqual(records.map((r) => r.op), ['create']);
  assert.deepEqual(
    events.map((e) => ({ ...e, time: typeof e.time, pid: e.pid === process.pid, ...('reason' in e ? { reason: e.reason.length } : {}) })),
    [
      { kind: 'storage', driver: 'dir', op: 'cloneTemplate', result: 'ok', duration_s: 0.012346, time: 'string', pid: true },
      { kind: 'image-cache', result: 'miss', digest: 'sha256:abc', time: 'string', pid: true },
      { kind: 'fallback', from: 'crun-cli', to: 'runc', reason: 1025, time: 'string', pid: true },
    ],
  );
  assert.equal(corrupt, 1);
  // The first journals' lines (no kind) are operation lines, as before.
  assert.equal(parseRecord('{"v":1,"time":"t","op":"start","id":"x","result":"ok","duration_s":0.1,"pid":1}')?.op, 'start');
  assert.equal(parseRecord('{"v":1,"kind":"storage","time":"t","driver":"dir","op":"destroy","result":"ok","duration_s":0.1,"pid":1}'), undefined, 'an event is not an operation record');
});
