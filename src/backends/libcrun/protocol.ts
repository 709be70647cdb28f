// Messages between berth and its libcrun worker (Node IPC, one call at a time).

export type WorkerOp = 'create' | 'start' | 'state' | 'kill' | 'pause' | 'resume' | 'update' | 'delete' | 'adopt';

export interface WorkerRequest {
  seq: number;
  op: WorkerOp;
  args: Record<string, unknown>;
}

export type WorkerReply =
  | { seq: number; ok: true; value: unknown }
  | {
      seq: number;
      ok: false;
      /** libcrun_error_t's status (an errno, or 0). */
      status: number;
      /** As crun prints it: "msg: strerror(status)" when status is set. */
      msg: string;
      /** load: the worker could not load the library; libcrun: a call failed; internal: the worker itself. */
      kind: 'load' | 'libcrun' | 'internal';
      /** libcrun_error_t's msg as it was. */
      libcrunMsg?: string;
    };
