// The operation journal: short-lived berth processes append each operation's outcome as one
// JSON line under <root>/journal/, and `berth serve` reads it incrementally.
//
// Crash-safe: a line is one write(2) on an O_APPEND descriptor and shorter than PIPE_BUF, so
// concurrent appends never interleave; a line torn by a crash is skipped (and counted) by the
// reader. Bounded: segments ops-<seq>.jsonl are rotated at a size limit and only the newest few
// are kept. Segment numbers only grow, so the reader can remember an offset per segment.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { subscribeOperations, type OperationOutcome } from '../core/channels.js';
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

/** Appends one line to the newest segment, rotating and pruning as needed. */
export function appendRecord(root: string, outcome: OperationOutcome, options: JournalOptions = {}): void {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const keep = Math.max(1, options.keepSegments ?? DEFAULT_KEEP_SEGMENTS);
  const dir = journalDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const line = Buffer.from(formatRecord(outcome));
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

const attached = new Set<string>();

/**
 * Writes every operation outcome of this process to <root>/journal. A journal that cannot be
 * written never fails the operation: `onError` hears about it (the CLI logs a warning).
 */
export function attachJournal(root: string, onError: (err: unknown) => void, options: JournalOptions = {}): void {
  if (attached.has(root)) return;
  attached.add(root);
  subscribeOperations((outcome) => {
    try {
      appendRecord(root, outcome, options);
    } catch (err) {
      onError(err);
    }
  });
}

/** Parses one journal line; undefined when it is not a record. */
export function parseRecord(line: string): JournalRecord | undefined {
  if (!line.startsWith(RECORD_PREFIX)) return undefined;
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!r || typeof r !== 'object') return undefined;
  const o = r as Record<string, unknown>;
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
  records: JournalRecord[];
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
    const out: ScanResult = { records: [], corrupt: 0 };
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
    const record = parseRecord(line);
    if (record) {
      out.records.push(record);
      return;
    }
    out.corrupt += 1;
    const start = line.lastIndexOf(RECORD_PREFIX);
    if (start > 0) {
      const tail = parseRecord(line.slice(start));
      if (tail) out.records.push(tail);
    }
  }
}
