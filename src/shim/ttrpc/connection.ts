// One framed ttrpc connection over a stream socket: decodes incoming frames, writes outgoing
// ones, and reports the end once. Server and client each wrap one.
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, type Decoded } from './frame.js';

export class FramedConnection {
  private readonly decoder = new FrameDecoder();
  private closed = false;

  constructor(
    readonly socket: Socket,
    onFrame: (d: Decoded) => void,
    private readonly onClose: (err?: Error) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const d of this.decoder.push(chunk)) {
        if (this.closed) return;
        onFrame(d);
      }
    });
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => this.end());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes one frame; false when the connection is already closed. Throws for an oversize payload. */
  send(streamId: number, type: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const frame = encodeFrame(streamId, type, payload);
    this.socket.write(frame);
    return true;
  }

  close(): void {
    this.socket.destroy();
    this.end();
  }

  private end(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onClose(err);
  }
}
