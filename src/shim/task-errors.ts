// berth's typed errors as the gRPC codes containerd's errdefs understand: NotFound for an
// unknown task, AlreadyExists, FailedPrecondition for a wrong state, and so on. The message is
// berth's own, so it reaches the `ctr` user as berth wrote it.
import { BerthError } from '../core/errors.js';
import { Code, TtrpcError } from './ttrpc/status.js';

const BY_CODE: Record<string, number> = {
  BERTH_ERR_NOT_FOUND: Code.NotFound,
  BERTH_ERR_EXISTS: Code.AlreadyExists,
  BERTH_ERR_STATE: Code.FailedPrecondition,
  BERTH_ERR_INVALID_ID: Code.InvalidArgument,
  BERTH_ERR_INVALID_BUNDLE: Code.InvalidArgument,
  BERTH_ERR_INVALID_ARGUMENT: Code.InvalidArgument,
  BERTH_ERR_INVALID_SIGNAL: Code.InvalidArgument,
  BERTH_ERR_INVALID_CONFIG: Code.FailedPrecondition,
  BERTH_ERR_UNSUPPORTED: Code.FailedPrecondition,
  BERTH_ERR_BACKEND_UNAVAILABLE: Code.Unavailable,
  BERTH_ERR_BUSY: Code.Unavailable,
  BERTH_ERR_PERMISSION: Code.PermissionDenied,
};

export function toTtrpcError(err: unknown): TtrpcError {
  if (err instanceof TtrpcError) return err;
  if (err instanceof BerthError) return new TtrpcError(BY_CODE[err.code] ?? Code.Unknown, err.message, { cause: err });
  return new TtrpcError(Code.Unknown, err instanceof Error ? err.message : String(err), { cause: err });
}

export function notFound(id: string): TtrpcError {
  return new TtrpcError(Code.NotFound, `task "${id}" does not exist in this berth shim`);
}

export function unimplemented(what: string): TtrpcError {
  return new TtrpcError(Code.Unimplemented, `berth shim: ${what} is not implemented yet (issue 16)`);
}
