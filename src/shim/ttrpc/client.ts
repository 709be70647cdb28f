// A ttrpc client over a unix socket: odd, increasing stream ids; many calls in flight on one
// connection, matched to their responses by stream id in whatever order they come; a timeout is
// sent as timeout_nano and enforced here too; closing the connection fails every pending call.
import { connect, type Socket } from 'node:net';
import { create, fromBinary, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { RequestSchema, ResponseSchema } from '../proto/gen/ttrpc/request_pb.js';
import { FramedConnection } from './connection.js';
import { MessageType, type Decoded } from './frame.js';
import { Code, TtrpcError } from './status.js';

export interface CallOptions {
  /** Milliseconds the server gets (sent as timeout_nano); the call fails with DeadlineExceeded after it. */
  timeoutMs?: number;
  /** Sent as the request's metadata (ttrpc's KeyValue list). */
  metadata?: Record<string, string | readonly string[]>;
}

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Stream ids are uint32; the last odd one. */
const MAX_STREAM_ID = 2 ** 32 - 1;

export class TtrpcClient {
  private readonly conn: FramedConnection;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closeError: TtrpcError | undefined;

  private constructor(socket: Socket) {
    this.conn = new FramedConnection(socket, (d) => this.onFrame(d), (err) => this.failAll(err));
  }

  /** Connects to a unix socket path. */
  static connect(path: string): Promise<TtrpcClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new TtrpcClient(socket));
      });
    });
  }

  /** Calls a method of a generated service (`Task.method.create`). */
  callMethod<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, req: MessageInitShape<I>, options?: CallOptions): Promise<MessageShape<O>> {
    return this.call(method.parent.typeName, method.name, method.input, req, method.output, options);
  }

  call<I extends DescMessage, O extends DescMessage>(
    service: string,
    method: string,
    reqType: I,
    req: MessageInitShape<I>,
    resType: O,
    options?: CallOptions,
  ): Promise<MessageShape<O>> {
    const payload = toBinary(reqType, create(reqType, req));
    return this.invoke(service, method, payload, options).then((bytes) => fromBinary(resType, bytes));
  }

  /** The raw call: request payload bytes in, response payload bytes out. */
  invoke(service: string, method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closeError) return Promise.reject(this.closeError);
    if (this.nextId > MAX_STREAM_ID) return Promise.reject(new TtrpcError(Code.ResourceExhausted, 'ttrpc: stream ids exhausted on this connection'));
    const id = this.nextId;
    this.nextId += 2;
    const metadata = Object.entries(options.metadata ?? {}).flatMap(([key, v]) => (typeof v === 'string' ? [v] : v).map((value) => ({ key, value })));
    const timeoutMs = options.timeoutMs;
    const request = create(RequestSchema, {
      service,
      method,
      payload,
      metadata,
      timeoutNano: timeoutMs !== undefined && timeoutMs > 0 ? BigInt(Math.ceil(timeoutMs * 1e6)) : 0n,
    });
    return new Promise<Uint8Array>((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined && timeoutMs > 0) {
        p.timer = setTimeout(() => {
          // A late answer for this id is dropped in onFrame.
          this.pending.delete(id);
          reject(new TtrpcError(Code.DeadlineExceeded, `ttrpc: ${service}/${method} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      try {
        if (!this.conn.send(id, MessageType.Request, toBinary(RequestSchema, request))) {
          this.settle(id)?.reject(this.closeError ?? new TtrpcError(Code.Unavailable, 'ttrpc: connection closed'));
        }
      } catch (err) {
        this.settle(id)?.reject(err as Error);
      }
    });
  }

  /** Closes the connection; pending calls fail with Unavailable. */
  close(): void {
    this.closeError ??= new TtrpcError(Code.Unavailable, 'ttrpc: client closed');
    this.conn.close();
  }

  /** True once the connection has ended (closed by either side). */
  get closed(): boolean {
    return this.conn.isClosed;
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private onFrame(d: Decoded): void {
    if (d.kind === 'oversize') {
      this.settle(d.streamId)?.reject(new TtrpcError(Code.ResourceExhausted, `ttrpc: response of ${d.length} bytes exceeds the maximum message size`));
      return;
    }
    const { frame } = d;
    const p = this.settle(frame.streamId);
    if (!p) return; // timed out already, or an id we never used
    if (frame.type !== MessageType.Response) {
      p.reject(new TtrpcError(Code.Internal, `ttrpc: unexpected message type ${frame.type} on stream ${frame.streamId}`));
      return;
    }
    let res;
    try {
      res = fromBinary(ResponseSchema, frame.payload);
    } catch (err) {
      p.reject(new TtrpcError(Code.Internal, `ttrpc: cannot decode the response: ${(err as Error).message}`, { cause: err }));
      return;
    }
    if (res.status && res.status.code !== Code.OK) p.reject(new TtrpcError(res.status.code, res.status.message));
    else p.resolve(res.payload);
  }

  private failAll(cause?: Error): void {
    this.closeError ??= new TtrpcError(Code.Unavailable, `ttrpc: connection closed${cause ? `: ${cause.message}` : ''}`, { cause });
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(this.closeError);
  }
}
