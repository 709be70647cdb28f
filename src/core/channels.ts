// Operation outcomes as a publish/subscribe channel (node:diagnostics_channel): the runtime
// publishes, telemetry subscribes (the journal, later logs and traces). Publishing with no
// subscriber costs one check; nothing below the runtime knows who listens.
import { channel } from 'node:diagnostics_channel';

export type OperationResult = 'ok' | 'error';

/** One finished operation of the runtime (create, start, delete …). */
export interface OperationOutcome {
  op: string;
  id: string;
  /** The container's backend; undefined when the operation failed before one was known. */
  backend: string | undefined;
  result: OperationResult;
  /** The error's BERTH_ERR_* code when result is "error". */
  code: string | undefined;
  durationS: number;
  /** When the operation started (RFC 3339). */
  time: string;
}

const operations = channel('berth:operation');

export function publishOperation(outcome: OperationOutcome): void {
  if (operations.hasSubscribers) operations.publish(outcome);
}

/** Subscribes to every operation outcome; returns the unsubscribe function. */
export function subscribeOperations(fn: (outcome: OperationOutcome) => void): () => void {
  const handler = (message: unknown): void => fn(message as OperationOutcome);
  operations.subscribe(handler);
  return () => void operations.unsubscribe(handler);
}
