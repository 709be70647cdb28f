// A ttrpc server on a unix socket: unary methods registered by full service name
// (`containerd.task.v2.Task`), requests handled concurrently and answered as they finish (out of
// order), statuses as ttrpc's Go server gives them (Unimplemented for an unknown service or
// method, InvalidArgument for an even stream id, ResourceExhausted for an oversize message).
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync } from 'node:fs';
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { RequestSchema, ResponseSchema, type Request } from '../proto/gen/ttrpc/request_pb.js';
import { FramedConnection } from './connection.js';
import { MESSAGE_LENGTH_MAX, MessageType, oversizeError, type Decoded } from './frame.js';
import { Code, TtrpcError, statusOf } from './status.js';

export interface CallContext {
  /** The request's metadata: key → values, in the order sent. */
  metadata: ReadonlyMap<string, readonly string[]>;
  /** Epoch milliseconds by which the caller wants an answer (from timeout_nano), if it set one. */
  deadline: number | undefined;
  /** Aborted at the deadline or when the connection closes. */
  signal: AbortSignal;
}

export interface MethodDef<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  input: I;
  output: O;
  handler: (req: MessageShape<I>, ctx: CallContext) => Promise<MessageInitShape<O>> | MessageInitShape<O>;
}

/** A method table from a generated service and handlers keyed by method name (`Create`, `Kill`…). */
export function methodsOf<S extends DescService>(
  service: S,
  handlers: Partial<Record<string, (req: any, ctx: CallContext) => Promise<any> | any>>,
): Record<string, MethodDef> {
  const out: Record<string, MethodDef> = {};
  for (const m of service.methods) {
    const h = handlers[m.name];
    if (h) out[m.name] = { input: m.input, output: m.output, handler: h };
  }
  for (const name of Object.keys(handlers)) {
    if (!out[name]) throw new Error(`${service.typeName} has no method ${name}`);
  }
  return out;
}

export interface ServerOptions {
  /** Told about what the server cannot answer to (a frame it drops, a failed write). */
  onError?: (err: Error) => void;
}

/** setTimeout's limit; a longer deadline is left to the handler. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TtrpcServer {
  private readonly services = new Map<string, Record<string, MethodDef>>();
  private readonly connections = new Set<FramedConnection>();
  private server: Server | undefined;

  constructor(private readonly options: ServerOptions = {}) {}

  register(service: string, methods: Record<string, MethodDef>): void {
    if (this.services.has(service)) throw new Error(`ttrpc service ${service} is already registered`);
    this.services.set(service, methods);
  }

  /** Listens on a unix socket, owner-only (0600); fails if `path` exists. */
  async listen(path: string): Promise<void> {
    if (this.server) throw new Error('ttrpc server is already listening');
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is bound inside listen(): a tight umask keeps it private from the first moment.
      const old = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(old);
      }
    });
    chmodSync(path, 0o600);
    this.server = server;
  }

  /** Handles one already-connected socket (for a listener the caller owns). */
  accept(socket: Socket): void {
    const inflight = new Set<AbortController>();
    const conn: FramedConnection = new FramedConnection(
      socket,
      (d) => this.onFrame(conn, d, inflight),
      () => {
        this.connections.delete(conn);
        for (const c of inflight) c.abort(new TtrpcError(Code.Canceled, 'ttrpc: connection closed'));
      },
    );
    this.connections.add(conn);
  }

  /** Stops listening, closes every connection (aborting their handlers), removes the socket. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections) c.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onFrame(conn: FramedConnection, d: Decoded, inflight: Set<AbortController>): void {
    if (d.kind === 'oversize') {
      this.reply(conn, d.streamId, oversizeError(d.length));
      return;
    }
    const { frame } = d;
    // Other types (a newer peer's stream data) are ignored for compatibility, as ttrpc does.
    if (frame.type !== MessageType.Request) return;
    let req: Request;
    try {
      req = fromBinary(RequestSchema, frame.payload);
    } catch (err) {
      this.reply(conn, frame.streamId, new TtrpcError(Code.InvalidArgument, `unmarshal request error: ${(err as Error).message}`));
      return;
    }
    if (frame.streamId % 2 !== 1) {
      this.reply(conn, frame.streamId, new TtrpcError(Code.InvalidArgument, 'StreamID must be odd for client initiated streams'));
      return;
    }
    void this.dispatch(conn, frame.streamId, req, inflight);
  }

  private async dispatch(conn: FramedConnection, streamId: number, req: Request, inflight: Set<AbortController>): Promise<void> {
    const methods = this.services.get(req.service);
    const method = methods?.[req.method];
    if (!methods || !method) {
      this.reply(conn, streamId, new TtrpcError(Code.Unimplemented, methods ? `method ${req.method}` : `service ${req.service}`));
      return;
    }
    const controller = new AbortController();
    inflight.add(controller);
    let answered = false;
    const answer = (result: Uint8Array | TtrpcError): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      inflight.delete(controller);
      this.reply(conn, streamId, result);
    };
    const timeoutMs = Number(req.timeoutNano) / 1e6;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
    const timer =
      timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS
        ? setTimeout(() => {
            const err = new TtrpcError(Code.DeadlineExceeded, 'context deadline exceeded');
            controller.abort(err);
            answer(err);
          }, timeoutMs)
        : undefined;
    const metadata = new Map<string, string[]>();
    for (const kv of req.metadata) metadata.set(kv.key, [...(metadata.get(kv.key) ?? []), kv.value]);

    let input;
    try {
      input = fromBinary(method.input, req.payload);
    } catch (err) {
      answer(new TtrpcError(Code.Internal, `ttrpc: error unmarshalling payload: ${(err as Error).message}`));
      return;
    }
    try {
      const out = await method.handler(input, { metadata, deadline, signal: controller.signal });
      answer(toBinary(method.output, create(method.output, out)));
    } catch (err) {
      const s = statusOf(err);
      answer(new TtrpcError(s.code, s.message));
    }
  }

  private reply(conn: FramedConnection, streamId: number, result: Uint8Array | TtrpcError): void {
    const response =
      result instanceof TtrpcError
        ? create(ResponseSchema, { status: { code: result.code, message: result.message } })
        : create(ResponseSchema, { payload: result });
    let bytes = toBinary(ResponseSchema, response);
    if (bytes.length > MESSAGE_LENGTH_MAX) {
      // The answer itself is too big: tell the caller so instead of sending what it would refuse.
      const err = oversizeError(bytes.length);
      bytes = toBinary(ResponseSchema, create(ResponseSchema, { status: { code: err.code, message: err.message } }));
    }
    try {
      conn.send(streamId, MessageType.Response, bytes);
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }
}
