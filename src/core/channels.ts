// Events as publish/subscribe channels (node:diagnostics_channel): the runtime, storage and
// images publish, telemetry subscribes (the journal, logs, metrics, traces). Publishing with no
// subscriber costs one check; nothing that publishes knows who listens.
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

/** One finished storage driver operation (createTemplate, clone, destroy, snapshot …). */
export interface StorageOperation {
  driver: string;
  op: string;
  result: OperationResult;
  durationS: number;
}

/** An image looked up for a container: found in the cache (hit) or imported/unpacked (miss). */
export interface ImageCacheEvent {
  result: 'hit' | 'miss';
  /** The image's manifest digest. */
  digest: string;
}

/** The backend the router wanted could not be used and another one was taken instead. */
export interface BackendFallback {
  from: string;
  to: string;
  reason: string;
}

interface Channel<T> {
  publish(message: T): void;
  /** Subscribes; returns the unsubscribe function. */
  subscribe(fn: (message: T) => void): () => void;
}

function typedChannel<T>(name: string): Channel<T> {
  const ch = channel(name);
  return {
    publish(message) {
      if (ch.hasSubscribers) ch.publish(message);
    },
    subscribe(fn) {
      const handler = (message: unknown): void => fn(message as T);
      ch.subscribe(handler);
      return () => void ch.unsubscribe(handler);
    },
  };
}

const operations = typedChannel<OperationOutcome>('berth:operation');
export const publishOperation = operations.publish;
export const subscribeOperations = operations.subscribe;

const storageOperations = typedChannel<StorageOperation>('berth:storage-operation');
export const publishStorageOperation = storageOperations.publish;
export const subscribeStorageOperations = storageOperations.subscribe;

const imageCache = typedChannel<ImageCacheEvent>('berth:image-cache');
export const publishImageCache = imageCache.publish;
export const subscribeImageCache = imageCache.subscribe;

const backendFallbacks = typedChannel<BackendFallback>('berth:backend-fallback');
export const publishBackendFallback = backendFallbacks.publish;
export const subscribeBackendFallbacks = backendFallbacks.subscribe;
