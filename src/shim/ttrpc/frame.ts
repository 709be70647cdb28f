// ttrpc's framing: every message is a 10-byte header (length uint32 BE, stream id uint32 BE,
// type uint8, flags uint8) followed by `length` bytes of protobuf. A stream reads in arbitrary
// chunks, so the decoder reassembles frames split across chunks and splits chunks that hold many.
import { Code, TtrpcError } from './status.js';

export const HEADER_LENGTH = 10;
/** ttrpc's messageLengthMax: a larger message is refused with ResourceExhausted. */
export const MESSAGE_LENGTH_MAX = 4 << 20;

export const MessageType = { Request: 1, Response: 2, Data: 3 } as const;

export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  payload: Buffer;
}

/** A frame, or the header of one too long to accept (its payload is skipped, never buffered). */
export type Decoded = { kind: 'frame'; frame: Frame } | { kind: 'oversize'; streamId: number; type: number; length: number };

export function oversizeError(length: number): TtrpcError {
  return new TtrpcError(Code.ResourceExhausted, `message length ${length} exceed maximum message size of ${MESSAGE_LENGTH_MAX}`);
}

/** Header and payload in one buffer; throws ResourceExhausted for a payload over the maximum. */
export function encodeFrame(streamId: number, type: number, payload: Uint8Array, flags = 0): Buffer {
  if (payload.length > MESSAGE_LENGTH_MAX) throw oversizeError(payload.length);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(streamId >>> 0, 4);
  out.writeUInt8(type, 8);
  out.writeUInt8(flags, 9);
  out.set(payload, HEADER_LENGTH);
  return out;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes of an oversize payload still to skip. */
  private skip = 0;

  /** Feeds one chunk; returns every frame it completes, in order. */
  push(chunk: Buffer): Decoded[] {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Decoded[] = [];
    // Concatenate only once a whole header (or header + payload) is there: a 4 MiB message in
    // 64 KiB chunks is copied once, not 64 times.
    while (this.buffered >= this.needed()) {
      const buf = this.take();
      let off = 0;
      while (buf.length - off >= HEADER_LENGTH) {
        const length = buf.readUInt32BE(off);
        const streamId = buf.readUInt32BE(off + 4);
        const type = buf.readUInt8(off + 8);
        const flags = buf.readUInt8(off + 9);
        if (length > MESSAGE_LENGTH_MAX) {
          out.push({ kind: 'oversize', streamId, type, length });
          const avail = buf.length - off - HEADER_LENGTH;
          const n = Math.min(length, avail);
          off += HEADER_LENGTH + n;
          this.skip = length - n;
          continue;
        }
        if (buf.length - off - HEADER_LENGTH < length) break;
        // A copy: the frame must not pin the (possibly large) shared chunk.
        const payload = Buffer.from(buf.subarray(off + HEADER_LENGTH, off + HEADER_LENGTH + length));
        out.push({ kind: 'frame', frame: { streamId, type, flags, payload } });
        off += HEADER_LENGTH + length;
      }
      this.putBack(buf.subarray(off));
      if (this.skip > 0) break; // nothing is left buffered while skipping
    }
    return out;
  }

  /** Bytes buffered but not yet a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  private needed(): number {
    if (this.buffered < HEADER_LENGTH) return HEADER_LENGTH;
    const head = this.chunks[0]!.length >= HEADER_LENGTH ? this.chunks[0]! : this.take(true);
    const length = head.readUInt32BE(0);
    return length > MESSAGE_LENGTH_MAX ? HEADER_LENGTH : HEADER_LENGTH + length;
  }

  /** All buffered bytes as one buffer; `keep` leaves them buffered (as that one buffer). */
  private take(keep = false): Buffer {
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    if (keep) {
      this.chunks = [buf];
    } else {
      this.chunks = [];
      this.buffered = 0;
    }
    return buf;
  }

  private putBack(rest: Buffer): void {
    if (rest.length > 0) {
      this.chunks = [rest];
      this.buffered = rest.length;
    }
  }
}
