// berth's side of the libcrun worker: starts it from a sealed copy of Node, sends it one call at
// a time, and turns its replies into values or errors. The worker holds no reference on berth's
// event loop while idle, so a CLI verb exits when it is done (and the worker with it).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '../../core/errors.js';
import type { LibcrunFound } from './detect.js';
import type { WorkerOp, WorkerReply, WorkerRequest } from './protocol.js';
import { sealedCopy } from './sealed-node.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/** libcrun's own error: the cause of the BackendError the user sees. */
export class LibcrunCallError extends Error {
  constructor(
    message: string,
    /** libcrun_error_t status (errno or 0). */
    readonly status: number,
    /** libcrun_error_t msg as libcrun wrote it. */
    readonly libcrunMsg: string,
  ) {
    super(message);
    this.name = 'LibcrunCallError';
  }
}

export interface LibcrunDriver {
  readonly pid: number;
  call(op: WorkerOp, args: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

export async function startDriver(found: LibcrunFound): Promise<LibcrunDriver> {
  const copy = await sealedCopy();
  let child: ChildProcess;
  try {
    // spawn() returns once the exec has succeeded; then the copy lives on as the worker's text.
    child = spawn(copy.path, [WORKER, found.path, found.version], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], argv0: 'berth-libcrun' });
  } finally {
    copy.close();
  }
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let seq = 0;
  let exited: string | undefined;
  const idle = (): void => {
    if (pending.size === 0) {
      child.channel?.unref();
      child.unref();
    }
  };

  const ready = new Promise<number>((resolve, reject) => {
    pending.set(0, { resolve: (v) => resolve((v as { pid: number }).pid), reject });
  });
  child.on('message', (r: WorkerReply) => {
    const p = pending.get(r.seq);
    if (!p) return;
    pending.delete(r.seq);
    if (r.ok) p.resolve(r.value);
    else if (r.kind === 'load') p.reject(new BackendUnavailableError(`backend crun-abi is not usable: load failed: ${r.msg}`));
    else p.reject(new LibcrunCallError(r.msg, r.status, r.libcrunMsg ?? r.msg));
    idle();
  });
  child.on('error', (err) => {
    exited = err.message;
    for (const p of pending.values()) p.reject(new BackendUnavailableError(`backend crun-abi is not usable: load failed: cannot start the libcrun worker: ${err.message}`, { cause: err }));
    pending.clear();
  });
  child.on('exit', (code, signal) => {
    exited = `the libcrun worker exited (${signal ?? code})`;
    const starting = pending.get(0);
    if (starting) starting.reject(new BackendUnavailableError(`backend crun-abi is not usable: load failed: ${exited} before it was ready`));
    pending.delete(0);
    for (const p of pending.values()) p.reject(new LibcrunCallError(exited, 0, exited));
    pending.clear();
  });
  const pid = await ready;
  idle();

  return {
    pid,
    call(op, args) {
      if (exited) return Promise.reject(new LibcrunCallError(exited, 0, exited));
      const s = ++seq;
      const request: WorkerRequest = { seq: s, op, args };
      child.ref();
      child.channel?.ref();
      return new Promise((resolve, reject) => {
        pending.set(s, { resolve, reject });
        child.send(request);
      });
    },
    close() {
      if (child.connected) child.disconnect();
    },
  };
}
