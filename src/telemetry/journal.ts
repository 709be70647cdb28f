// The operation journal: short-lived berth processes append each operation's outcome as one
// JSON line under <root>/journal/, and `berth serve` reads it incrementally.
//
// Crash-safe: a line is one write(2) on an O_APPEND descriptor and shorter than PIPE_BUF, so
// concurrent appends never interleave; a line torn by a crash is skipped (and counted) by the
// reader. Bounded: segments ops-<seq>.jsonl are rotated at a size limit and only the newest few
// are kept. Segment numbers only grow, so the reader can remember an offset per segment.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  subscribeBackendFallbacks,
  subscribeImageCache,
  subscribeOperations,
  subscribeStorageOperations,
  type BackendFallback,
  type ImageCacheEvent,
  type OperationOutcome,
  type StorageOperation,
} from '../core/channels.js';
import { errnoCode } from '../core/errors.js';

export const JOURNAL_VERSION = 1;
/** Lines at most this long are appended atomically (Linux PIPE_BUF). */
export const MAX_LINE_BYTES = 4096;
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;
export const DEFAULT_KEEP_SEGMENTS = 8;

/** Every line starts with this: the reader finds a record after a torn fragment by it. */
const RECORD_PREFIX = `{"v":${JOURNAL_VERSION},`;
const SEGMENT = /^ops-(\d{10})\.jsonl$/;

export interface JournalRecord {
  v: number;
  time: string;
  op: string;
  id: string;
  backend: string | undefined;
  result: 'ok' | 'error';
  code: string | undefined;
  duration_s: number;
  pid: number;
}

/**
 * The other kinds of lines: `{"v":1,"kind":"storage"|"image-cache"|"fallback",…}`. Operation
 * lines have no `kind` (the format of the first journals, still read as it was).
 */
export type JournalEvent =
  | { kind: 'storage'; time: string; driver: string; op: string; result: 'ok' | 'error'; duration_s: number; pid: number }
  | { kind: 'image-cache'; time: string; result: 'hit' | 'miss'; digest: string; pid: number }
  | { kind: 'fallback'; time: string; from: string; to: string; reason: string; pid: number };

export type JournalEventInput =
  | ({ kind: 'storage' } & StorageOperation)
  | ({ kind: 'image-cache' } & ImageCacheEvent)
  | ({ kind: 'fallback' } & BackendFallback);

/** The longest fallback reason kept in the journal (the line must stay under PIPE_BUF). */
const MAX_REASON_CHARS = 1024;

export interface JournalOptions {
  segmentBytes?: number;
  keepSegments?: number;
}

export function journalDir(root: string): string {
  return join(root, 'journal');
}

export function segmentName(seq: number): string {
  return `ops-${String(seq).padStart(10, '0')}.jsonl`;
}

/** The journal's segments, oldest first. */
export function listSegments(dir: string): { name: string; seq: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: { name: string; seq: number }[] = [];
  for (const name of names) {
    const m = SEGMENT.exec(name);
    if (m) out.push({ name, seq: Number(m[1]) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** One record as one line, cut to MAX_LINE_BYTES by shortening the id (the only long field). */
export function formatRecord(outcome: OperationOutcome, pid = process.pid): string {
  const record = (id: string): string =>
    RECORD_PREFIX +
    JSON.stringify({
      time: outcome.time,
      op: outcome.op,
      id,
      backend: outcome.backend,
      result: outcome.result,
      code: outcome.code,
      duration_s: Math.round(outcome.durationS * 1e6) / 1e6,
      pid,
    }).slice(1) +
    '\n';
  let line = record(outcome.id);
  const over = Buffer.byteLength(line) - MAX_LINE_BYTES;
  if (over > 0) line = record(Buffer.from(outcome.id).subarray(0, Math.max(0, Buffer.byteLength(outcome.id) - over - 8)).toString().replace(/\uFFFD+$/, '') + '…');
  return line;
}

/** One event as one line; its fields are short by construction (the reason is cut). */
export function formatEvent(event: JournalEventInput, pid = process.pid, time = new Date().toISOString()): string {
  const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);
  let body: Record<string, unknown>;
  switch (event.kind) {
    case 'storage':
      body = { kind: event.kind, time, driver: clip(event.driver, 64), op: clip(event.op, 64), result: event.result, duration_s: Math.round(event.durationS * 1e6) / 1e6, pid };
      break;
    case 'image-cache':
      body = { kind: event.kind, time, result: event.result, digest: clip(event.digest, 256), pid };
      break;
    case 'fallback':
      body = { kind: event.kind, time, from: clip(event.from, 64), to: clip(event.to, 64), reason: clip(event.reason, MAX_REASON_CHARS), pid };
      break;
  }
  return RECORD_PREFIX + JSON.stringify(body).slice(1) + '\n';
}

/** Appends one operation line to the newest segment, rotating and pruning as needed. */
export function appendRecord(root: string, outcome: OperationOutcome, options: JournalOptions = {}): void {
  appendLine(root, formatRecord(outcome), options);
}

/** Appends one event line (storage operation, image cache lookup, backend fallback). */
export function appendEvent(root: string, event: JournalEventInput, options: JournalOptions = {}): void {
  appendLine(root, formatEvent(event), options);
}

function appendLine(root: string, text: string, options: JournalOptions): void {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const keep = Math.max(1, options.keepSegments ?? DEFAULT_KEEP_SEGMENTS);
  const dir = journalDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const line = Buffer.from(text);
  const segments = listSegments(dir);
  let seq = segments.at(-1)?.seq ?? 1;
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
  let fd = openSync(join(dir, segmentName(seq)), flags, 0o600);
  try {
    const size = fstatSync(fd).size;
    if (size > 0 && size + line.length > segmentBytes) {
      // Two writers may both rotate: O_CREAT without O_EXCL lets the second join the first's segment.
      closeSync(fd);
      seq += 1;
      fd = openSync(join(dir, segmentName(seq)), flags, 0o600);
      for (const old of listSegments(dir)) {
        if (old.seq <= seq - keep) unlinkQuietly(join(dir, old.name));
      }
    }
    const written = writeSync(fd, line);
    if (written !== line.length) throw new Error(`short write to ${join(dir, segmentName(seq))}: ${written} of ${line.length} bytes`);
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    // Another writer pruned it first.
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Each attached root's unsubscribe calls. */
const attached = new Map<string, (() => void)[]>();

/**
 * Writes every operation outcome, storage operation, image cache lookup and backend fallback of
 * this process to <root>/journal. A journal that cannot be written never fails the operation:
 * `onError` hears about it (the CLI logs a warning).
 */
export function attachJournal(root: string, onError: (err: unknown) => void, options: JournalOptions = {}): void {
  if (attached.has(root)) return;
  const guarded =
    <T>(write: (message: T) => void) =>
    (message: T): void => {
      try {
        write(message);
      } catch (err) {
        onError(err);
      }
    };
  attached.set(root, [
    subscribeOperations(guarded((outcome) => appendRecord(root, outcome, options))),
    subscribeStorageOperations(guarded((e) => appendEvent(root, { kind: 'storage', ...e }, options))),
    subscribeImageCache(guarded((e) => appendEvent(root, { kind: 'image-cache', ...e }, options))),
    subscribeBackendFallbacks(guarded((e) => appendEvent(root, { kind: 'fallback', ...e }, options))),
  ]);
}

/** Stops writing this process's events to <root>/journal (a long-lived process done with a root). */
export function detachJournal(root: string): void {
  for (const off of attached.get(root) ?? []) off();
  attached.delete(root);
}

function parseObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith(RECORD_PREFIX)) return undefined;
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return undefined;
  }
  return r && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : undefined;
}

/** Parses one line of any kind; undefined when it is not a valid line. */
export function parseLine(line: string): { record: JournalRecord } | { event: JournalEvent } | undefined {
  const o = parseObject(line);
  if (!o) return undefined;
  if (o.kind === undefined || o.kind === 'op') {
    const record = recordFrom(o);
    return record && { record };
  }
  const event = eventFrom(o);
  return event && { event };
}

function eventFrom(o: Record<string, unknown>): JournalEvent | undefined {
  const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
  const time = typeof o.time === 'string' ? o.time : '';
  const pid = typeof o.pid === 'number' ? o.pid : 0;
  switch (o.kind) {
    case 'storage':
      if (!str(o.driver) || !str(o.op) || (o.result !== 'ok' && o.result !== 'error')) return undefined;
      if (typeof o.duration_s !== 'number' || !Number.isFinite(o.duration_s) || o.duration_s < 0) return undefined;
      return { kind: 'storage', time, driver: o.driver, op: o.op, result: o.result, duration_s: o.duration_s, pid };
    case 'image-cache':
      if (o.result !== 'hit' && o.result !== 'miss') return undefined;
      return { kind: 'image-cache', time, result: o.result, digest: typeof o.digest === 'string' ? o.digest : '', pid };
    case 'fallback':
      if (!str(o.from) || !str(o.to)) return undefined;
      return { kind: 'fallback', time, from: o.from, to: o.to, reason: typeof o.reason === 'string' ? o.reason : '', pid };
    default:
      return undefined; // a kind this berth does not know: counted as corrupt, like a foreign version
  }
}

/** Parses one operation line; undefined when it is not an operation record. */
export function parseRecord(line: string): JournalRecord | undefined {
  const parsed = parseLine(line);
  return parsed && 'record' in parsed ? parsed.record : undefined;
}

function recordFrom(o: Record<string, unknown>): JournalRecord | undefined {
  if (typeof o.op !== 'string' || typeof o.id !== 'string' || (o.result !== 'ok' && o.result !== 'error')) return undefined;
  if (typeof o.duration_s !== 'number' || !Number.isFinite(o.duration_s) || o.duration_s < 0) return undefined;
  return {
    v: JOURNAL_VERSION,
    time: typeof o.time === 'string' ? o.time : '',
    op: o.op,
    id: o.id,
    backend: typeof o.backend === 'string' ? o.backend : undefined,
    result: o.result,
    code: typeof o.code === 'string' ? o.code : undefined,
    duration_s: o.duration_s,
    pid: typeof o.pid === 'number' ? o.pid : 0,
  };
}

export interface ScanResult {
  /** Operation records. */
  records: JournalRecord[];
  /** Storage operations, image cache lookups and backend fallbacks. */
  events: JournalEvent[];
  /** Lines that were not records: garbage, or fragments torn by a crash. */
  corrupt: number;
}

interface SegmentCursor {
  offset: number;
  /** File size at the previous scan when it ended in an incomplete line. */
  pendingSize: number | undefined;
}

/**
 * Reads the journal incrementally: each scan returns the records appended since the previous
 * one. An incomplete last line is left for the next scan; if the file has not grown by then, it
 * was torn by a crash: it is counted as corrupt and skipped.
 */
export class JournalReader {
  private readonly cursors = new Map<string, SegmentCursor>();
  private readonly dir: string;

  constructor(root: string) {
    this.dir = journalDir(root);
  }

  scan(): ScanResult {
    const out: ScanResult = { records: [], events: [], corrupt: 0 };
    const segments = listSegments(this.dir);
    const present = new Set(segments.map((s) => s.name));
    for (const name of this.cursors.keys()) if (!present.has(name)) this.cursors.delete(name);
    for (const { name } of segments) {
      const cursor = this.cursors.get(name) ?? { offset: 0, pendingSize: undefined };
      this.cursors.set(name, cursor);
      this.readSegment(join(this.dir, name), cursor, out);
    }
    return out;
  }

  private readSegment(path: string, cursor: SegmentCursor, out: ScanResult): void {
    let size: number;
    try {
      size = statSync(path).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return; // pruned since the listing
      throw err;
    }
    if (size < cursor.offset) cursor.offset = 0; // replaced (a journal removed and restarted)
    if (size === cursor.offset) return;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    let data: Buffer;
    try {
      data = Buffer.alloc(size - cursor.offset);
      let got = 0;
      while (got < data.length) {
        const n = readSync(fd, data, got, data.length - got, cursor.offset + got);
        if (n === 0) break;
        got += n;
      }
      data = data.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    const lastNewline = data.lastIndexOf(0x0a);
    const complete = lastNewline + 1;
    for (const line of data.subarray(0, complete).toString('utf8').split('\n')) {
      if (line === '') continue;
      this.takeLine(line, out);
    }
    cursor.offset += complete;
    if (complete < data.length) {
      const fileSize = cursor.offset + (data.length - complete);
      if (cursor.pendingSize === fileSize) {
        // The same incomplete line as last time: torn by a crash, never to be finished.
        out.corrupt += 1;
        cursor.offset = fileSize;
        cursor.pendingSize = undefined;
      } else {
        cursor.pendingSize = fileSize;
      }
    } else {
      cursor.pendingSize = undefined;
    }
  }

  /** A line, or a torn fragment with a whole record appended to it by the next writer. */
  private takeLine(line: string, out: ScanResult): void {
    if (take(parseLine(line), out)) return;
    out.corrupt += 1;
    const start = line.lastIndexOf(RECORD_PREFIX);
    if (start > 0) take(parseLine(line.slice(start)), out);
  }
}

function take(parsed: ReturnType<typeof parseLine>, out: ScanResult): boolean {
  if (!parsed) return false;
  if ('record' in parsed) out.records.push(parsed.record);
  else out.events.push(parsed.event);
  return true;
}
