// ttrpc framing: the 10-byte header, frames split across chunks or coalesced into one, oversize
// messages skipped without buffering them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder, HEADER_LENGTH, MESSAGE_LENGTH_MAX, MessageType, type Decoded } from '../../../src/shim/ttrpc/frame.js';
import { Code, TtrpcError } from '../../../src/shim/ttrpc/status.js';

const frames = (ds: Decoded[]): Array<[number, number, number, string]> =>
  ds.map((d) => {
    assert.equal(d.kind, 'frame');
    const f = (d as Extract<Decoded, { kind: 'frame' }>).frame;
    return [f.streamId, f.type, f.flags, f.payload.toString()];
  });

test('the header is length, stream id (uint32 BE), type, flags', () => {
  const b = encodeFrame(0x01020304, MessageType.Response, Buffer.from('abc'), 7);
  assert.deepEqual([...b], [0, 0, 0, 3, 1, 2, 3, 4, 2, 7, 0x61, 0x62, 0x63]);
  assert.equal(HEADER_LENGTH, 10);
  assert.equal(MESSAGE_LENGTH_MAX, 4 * 1024 * 1024);
});

test('a frame split at every byte boundary decodes once, whole', () => {
  const wire = encodeFrame(5, MessageType.Request, Buffer.from('hello ttrpc'));
  for (let cut = 1; cut < wire.length; cut++) {
    const dec = new FrameDecoder();
    const first = dec.push(wire.subarray(0, cut));
    assert.deepEqual(first, [], `nothing before the frame is complete (cut at ${cut})`);
    assert.deepEqual(frames(dec.push(wire.subarray(cut))), [[5, 1, 0, 'hello ttrpc']]);
    assert.equal(dec.pending, 0);
  }
  // And one byte at a time.
  const dec = new FrameDecoder();
  const got: Decoded[] = [];
  for (const byte of wire) got.push(...dec.push(Buffer.from([byte])));
  assert.deepEqual(frames(got), [[5, 1, 0, 'hello ttrpc']]);
});

test('many frames in one chunk, the last one partial, decode in order', () => {
  const wire = Buffer.concat([
    encodeFrame(1, MessageType.Request, Buffer.from('a')),
    encodeFrame(3, MessageType.Request, Buffer.alloc(0)),
    encodeFrame(5, MessageType.Data, Buffer.from('ccc')),
    encodeFrame(7, MessageType.Request, Buffer.from('dddd')),
  ]);
  const dec = new FrameDecoder();
  assert.deepEqual(frames(dec.push(wire.subarray(0, wire.length - 2))), [
    [1, 1, 0, 'a'],
    [3, 1, 0, ''],
    [5, 3, 0, 'ccc'],
  ]);
  assert.equal(dec.pending, HEADER_LENGTH + 2);
  assert.deepEqual(frames(dec.push(wire.subarray(wire.length - 2))), [[7, 1, 0, 'dddd']]);
});

test('an oversize frame is reported with its stream id and skipped, even across chunks; the next frame decodes', () => {
  const length = MESSAGE_LENGTH_MAX + 1;
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32BE(length, 0);
  header.writeUInt32BE(9, 4);
  header.writeUInt8(MessageType.Request, 8);
  const body = Buffer.alloc(length, 0x55);
  const next = encodeFrame(11, MessageType.Request, Buffer.from('after'));
  const dec = new FrameDecoder();
  const got = [...dec.push(Buffer.concat([header, body.subarray(0, 1000)]))];
  assert.deepEqual(got, [{ kind: 'oversize', streamId: 9, type: 1, length }]);
  assert.equal(dec.pending, 0, 'the oversize payload is not buffered');
  for (let off = 1000; off < length; off += 1 << 20) got.push(...dec.push(body.subarray(off, Math.min(length, off + (1 << 20)))));
  assert.equal(got.length, 1);
  assert.deepEqual(frames(dec.push(next)), [[11, 1, 0, 'after']]);
});

test('an oversize frame followed by another frame in the same chunk', () => {
  const length = MESSAGE_LENGTH_MAX + 10;
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32BE(length, 0);
  header.writeUInt32BE(1, 4);
  header.writeUInt8(MessageType.Request, 8);
  const dec = new FrameDecoder();
  const got = dec.push(Buffer.concat([header, Buffer.alloc(length), encodeFrame(3, MessageType.Request, Buffer.from('x'))]));
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], { kind: 'oversize', streamId: 1, type: 1, length });
  assert.deepEqual(frames(got.slice(1)), [[3, 1, 0, 'x']]);
});

test('a message at the maximum is accepted; one byte more is refused at encode with ResourceExhausted', () => {
  const dec = new FrameDecoder();
  const got = dec.push(encodeFrame(1, MessageType.Response, Buffer.alloc(MESSAGE_LENGTH_MAX)));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.kind, 'frame');
  assert.throws(
    () => encodeFrame(1, MessageType.Request, Buffer.alloc(MESSAGE_LENGTH_MAX + 1)),
    (err: unknown) => err instanceof TtrpcError && err.code === Code.ResourceExhausted && /exceed maximum message size of 4194304/.test(err.message),
  );
});

test('an unknown message type is decoded as it is (the server ignores it, the client fails its call)', () => {
  const dec = new FrameDecoder();
  assert.deepEqual(frames(dec.push(encodeFrame(1, 0x7f, Buffer.from('?'), 0xff))), [[1, 0x7f, 0xff, '?']]);
});
