// berth's ttrpc server and client against each other over a real unix socket, and the server
// against raw frames written by hand (what a Go peer could send).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { KillRequestSchema, StateRequestSchema, StateResponseSchema, Task, WaitRequestSchema } from '../../../src/shim/proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { Status as TaskStatus } from '../../../src/shim/proto/gen/github.com/containerd/containerd/api/types/task/task_pb.js';
import { RequestSchema, ResponseSchema, type Response } from '../../../src/shim/proto/gen/ttrpc/request_pb.js';
import { TtrpcClient } from '../../../src/shim/ttrpc/client.js';
import { encodeFrame, FrameDecoder, MESSAGE_LENGTH_MAX, MessageType } from '../../../src/shim/ttrpc/frame.js';
import { methodsOf, TtrpcServer, type CallContext } from '../../../src/shim/ttrpc/server.js';
import { Code, TtrpcError } from '../../../src/shim/ttrpc/status.js';

const TASK = 'containerd.task.v2.Task';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir: string;
let path: string;
let server: TtrpcServer;
const seen: CallContext[] = [];
/** Ids of the Kill handlers whose abort signal fired. */
const aborted: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-ttrpc-'));
  path = join(dir, 'ttrpc.sock');
  server = new TtrpcServer();
  server.register(
    TASK,
    methodsOf(Task, {
      State: (req: { id: string }, ctx: CallContext) => {
        seen.push(ctx);
        if (req.id === 'missing') throw new TtrpcError(Code.NotFound, `container ${req.id}: not found`);
        if (req.id === 'plain') throw new Error('something broke');
        if (req.id === 'enoent') throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
        return { id: req.id, pid: 42, status: TaskStatus.RUNNING, bundle: '/b/' + req.id };
      },
      // Answers after `id` milliseconds: replies come back in the order they finish.
      Wait: async (req: { id: string }) => {
        await sleep(Number(req.id));
        return { exitStatus: Number(req.id) };
      },
      // Never answers on its own: only the deadline or a closed connection ends it.
      Kill: (req: { id: string }, ctx: CallContext) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted.push(req.id);
            reject(ctx.signal.reason);
          });
        }),
    }),
  );
  await server.listen(path);
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the socket is owner-only', () => {
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('a call round-trips a decoded request and response', async () => {
  const c = await TtrpcClient.connect(path);
  try {
    const res = await c.callMethod(Task.method.state, { id: 'c1' });
    assert.equal(res.$typeName, 'containerd.task.v2.StateResponse');
    assert.deepEqual([res.id, res.pid, res.status, res.bundle], ['c1', 42, TaskStatus.RUNNING, '/b/c1']);
    const same = await c.call(TASK, 'State', StateRequestSchema, { id: 'c2' }, StateResponseSchema);
    assert.equal(same.id, 'c2');
  } finally {
    c.close();
  }
});

test('metadata and the deadline reach the handler', async () => {
  const c = await TtrpcClient.connect(path);
  try {
    seen.length = 0;
    const t0 = Date.now();
    await c.callMethod(Task.method.state, { id: 'md' }, { timeoutMs: 5000, metadata: { 'containerd-namespace': 'ns1', multi: ['a', 'b'] } });
    const ctx = seen[0]!;
    assert.deepEqual(ctx.metadata.get('containerd-namespace'), ['ns1']);
    assert.deepEqual(ctx.metadata.get('multi'), ['a', 'b']);
    assert.ok(ctx.deadline! >= t0 + 4900 && ctx.deadline! <= Date.now() + 5000, `deadline ${ctx.deadline} about 5 s after ${t0}`);
    await c.callMethod(Task.method.state, { id: 'nodeadline' });
    assert.equal(seen[1]!.deadline, undefined);
  } finally {
    c.close();
  }
});

test('concurrent calls on one connection get their own answers, out of order', async () => {
  const c = await TtrpcClient.connect(path);
  try {
    const finished: number[] = [];
    const delays = [120, 10, 60, 0, 30];
    const results = await Promise.all(
      delays.map(async (d) => {
        const r = await c.callMethod(Task.method.wait, { id: String(d) });
        finished.push(d);
        return r.exitStatus;
      }),
    );
    assert.deepEqual(results, delays, 'each call got the answer to its own request');
    assert.deepEqual(finished, [...delays].sort((a, b) => a - b), 'answers came in the order the handlers finished');
  } finally {
    c.close();
  }
});

test('an unknown service or method answers Unimplemented (12), as ttrpc does', async () => {
  const c = await TtrpcClient.connect(path);
  try {
    await assert.rejects(c.invoke('no.such.Service', 'State', new Uint8Array()), { code: Code.Unimplemented, message: 'service no.such.Service' });
    await assert.rejects(c.invoke(TASK, 'Frobnicate', new Uint8Array()), { code: Code.Unimplemented, message: 'method Frobnicate' });
    // Registered in the service but without a handler here.
    await assert.rejects(c.callMethod(Task.method.pids, { id: 'x' }), { code: Code.Unimplemented, message: 'method Pids' });
    assert.equal((await c.callMethod(Task.method.state, { id: 'still-works' })).id, 'still-works');
  } finally {
    c.close();
  }
});

test("a handler's error becomes the status: its TtrpcError code, an errno's code, else Unknown", async () => {
  const c = await TtrpcClient.connect(path);
  try {
    await assert.rejects(c.callMethod(Task.method.state, { id: 'missing' }), (err: unknown) => err instanceof TtrpcError && err.code === Code.NotFound && err.message === 'container missing: not found');
    await assert.rejects(c.callMethod(Task.method.state, { id: 'plain' }), { code: Code.Unknown, message: 'something broke' });
    await assert.rejects(c.callMethod(Task.method.state, { id: 'enoent' }), { code: Code.NotFound });
  } finally {
    c.close();
  }
});

test('a timeout fails the call with DeadlineExceeded and aborts the handler', async () => {
  const c = await TtrpcClient.connect(path);
  try {
    const t0 = Date.now();
    await assert.rejects(c.callMethod(Task.method.kill, { id: 'slow' }, { timeoutMs: 80 }), { code: Code.DeadlineExceeded });
    const ms = Date.now() - t0;
    assert.ok(ms >= 75 && ms < 2000, `failed after ${ms} ms`);
    for (let i = 0; i < 50 && !aborted.includes('slow'); i++) await sleep(10);
    assert.ok(aborted.includes('slow'), 'the server aborted the handler at its deadline');
    assert.equal((await c.callMethod(Task.method.state, { id: 'after-timeout' })).id, 'after-timeout');
  } finally {
    c.close();
  }
});

test('closing the connection fails pending calls; the server aborts their handlers; later calls fail at once', async () => {
  const c = await TtrpcClient.connect(path);
  const pending = c.callMethod(Task.method.kill, { id: 'hang1' });
  await sleep(30);
  c.close();
  await assert.rejects(pending, { code: Code.Unavailable });
  await assert.rejects(c.callMethod(Task.method.state, { id: 'x' }), { code: Code.Unavailable });
  for (let i = 0; i < 50 && !aborted.includes('hang1'); i++) await sleep(10);
  assert.ok(aborted.includes('hang1'), 'the server saw the connection close');
});

test('a server going away fails the pending calls of its clients', async () => {
  const p2 = join(dir, 'second.sock');
  const s2 = new TtrpcServer();
  s2.register(TASK, methodsOf(Task, { Kill: () => new Promise(() => undefined) }));
  await s2.listen(p2);
  const c = await TtrpcClient.connect(p2);
  const pending = c.callMethod(Task.method.kill, { id: 'x' });
  await sleep(30);
  await s2.close();
  await assert.rejects(pending, (err: unknown) => err instanceof TtrpcError && err.code === Code.Unavailable && /connection closed/.test(err.message));
  assert.ok(c.closed);
});

test('a request over 4 MiB is refused before it is sent; the connection still works', async () => {
  const c = await TtrpcClient.connect(path);
  try {
    await assert.rejects(c.invoke(TASK, 'State', new Uint8Array(MESSAGE_LENGTH_MAX)), { code: Code.ResourceExhausted });
    assert.equal((await c.callMethod(Task.method.state, { id: 'ok' })).id, 'ok');
  } finally {
    c.close();
  }
});

/** A raw socket speaking frames by hand. */
async function raw(): Promise<{ socket: Socket; write: (b: Buffer) => void; next: () => Promise<{ streamId: number; res: Response }> }> {
  const socket = connect(path);
  await new Promise((r) => socket.once('connect', r));
  const dec = new FrameDecoder();
  const queue: Array<{ streamId: number; res: Response }> = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    for (const d of dec.push(chunk)) {
      if (d.kind !== 'frame') throw new Error('oversize answer');
      assert.equal(d.frame.type, MessageType.Response);
      queue.push({ streamId: d.frame.streamId, res: fromBinary(ResponseSchema, d.frame.payload) });
      waiters.shift()?.();
    }
  });
  const next = async (): Promise<{ streamId: number; res: Response }> => {
    if (queue.length === 0) await new Promise<void>((r) => waiters.push(r));
    return queue.shift()!;
  };
  return { socket, write: (b) => socket.write(b), next };
}

const request = (id: number, service: string, method: string, payload: Uint8Array, timeoutNano = 0n): Buffer =>
  encodeFrame(id, MessageType.Request, toBinary(RequestSchema, create(RequestSchema, { service, method, payload, timeoutNano })));
const stateReq = (id: string): Uint8Array => toBinary(StateRequestSchema, create(StateRequestSchema, { id }));

test('raw frames: coalesced requests and a request written byte by byte are all answered', async () => {
  const r = await raw();
  try {
    r.write(Buffer.concat([request(1, TASK, 'State', stateReq('a')), request(3, TASK, 'State', stateReq('b')), request(5, TASK, 'State', stateReq('c'))]));
    const got = [await r.next(), await r.next(), await r.next()].map(({ streamId, res }) => [streamId, fromBinary(StateResponseSchema, res.payload).id]);
    assert.deepEqual(got.sort(), [[1, 'a'], [3, 'b'], [5, 'c']]);
    for (const byte of request(7, TASK, 'State', stateReq('d'))) {
      r.write(Buffer.from([byte]));
      await sleep(1);
    }
    const d = await r.next();
    assert.equal(d.streamId, 7);
    assert.equal(fromBinary(StateResponseSchema, d.res.payload).id, 'd');
  } finally {
    r.socket.destroy();
  }
});

test('raw frames: an even stream id, an oversize frame and a bad payload get their status on their stream; unknown types are ignored', async () => {
  const r = await raw();
  try {
    r.write(request(2, TASK, 'State', stateReq('even')));
    let a = await r.next();
    assert.deepEqual([a.streamId, a.res.status?.code], [2, Code.InvalidArgument]);
    assert.match(a.res.status!.message, /StreamID must be odd/);

    const header = Buffer.alloc(10);
    header.writeUInt32BE(MESSAGE_LENGTH_MAX + 1, 0);
    header.writeUInt32BE(9, 4);
    header.writeUInt8(MessageType.Request, 8);
    r.write(Buffer.concat([header, Buffer.alloc(MESSAGE_LENGTH_MAX + 1)]));
    a = await r.next();
    assert.deepEqual([a.streamId, a.res.status?.code], [9, Code.ResourceExhausted]);
    assert.match(a.res.status!.message, /exceed maximum message size of 4194304/);

    r.write(encodeFrame(11, MessageType.Request, Buffer.from([0xff, 0xff, 0xff])));
    a = await r.next();
    assert.deepEqual([a.streamId, a.res.status?.code], [11, Code.InvalidArgument]);

    r.write(request(13, TASK, 'State', Buffer.from([0x0a, 0x7f])));
    a = await r.next();
    assert.deepEqual([a.streamId, a.res.status?.code], [13, Code.Internal]);

    r.write(encodeFrame(15, 0x7f, Buffer.from('future')));
    r.write(encodeFrame(17, MessageType.Data, Buffer.from('data')));
    r.write(request(19, TASK, 'State', stateReq('alive')));
    a = await r.next();
    assert.equal(a.streamId, 19, 'the frames of unknown types got no answer');
    assert.equal(fromBinary(StateResponseSchema, a.res.payload).id, 'alive');
  } finally {
    r.socket.destroy();
  }
});

test("raw frames: the server honours timeout_nano on its own (no client timer)", async () => {
  const r = await raw();
  try {
    const t0 = Date.now();
    r.write(request(1, TASK, 'Kill', toBinary(KillRequestSchema, create(KillRequestSchema, { id: 'rawslow' })), 50_000_000n));
    const a = await r.next();
    const ms = Date.now() - t0;
    assert.deepEqual([a.streamId, a.res.status?.code], [1, Code.DeadlineExceeded]);
    assert.ok(ms >= 45 && ms < 2000, `answered after ${ms} ms`);
    // Success carries no error status (Go's client accepts a missing status or code 0), and a
    // zero-valued answer an empty payload.
    r.write(request(3, TASK, 'Wait', toBinary(WaitRequestSchema, create(WaitRequestSchema, { id: '0' }))));
    const ok = await r.next();
    assert.equal(ok.streamId, 3);
    assert.equal(ok.res.status?.code ?? Code.OK, Code.OK);
    assert.equal(ok.res.payload.length, 0);
  } finally {
    r.socket.destroy();
  }
});

test('registering a handler for a method the service lacks is refused', () => {
  assert.throws(() => methodsOf(Task, { Frob: () => ({}) }), /containerd.task.v2.Task has no method Frob/);
  const s = new TtrpcServer();
  s.register(TASK, {});
  assert.throws(() => s.register(TASK, {}), /already registered/);
});
