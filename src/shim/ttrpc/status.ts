// gRPC status codes as ttrpc carries them in Response.status (google.rpc.Status), and the error a
// ttrpc call fails with or a handler throws to choose the code containerd sees.

/** The codes of google.golang.org/grpc/codes (containerd's errdefs map its errors onto these). */
export const Code = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];

const NAMES = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** `NotFound` for 5; `Code(99)` for a code outside the table. */
export function codeName(code: number): string {
  return NAMES.get(code) ?? `Code(${code})`;
}

/** A ttrpc status: thrown by handlers to answer with this code, and by the client for a failed call. */
export class TtrpcError extends Error {
  override readonly name = 'TtrpcError';
  constructor(
    readonly code: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  override toString(): string {
    return `ttrpc ${codeName(this.code)}: ${this.message}`;
  }
}

/** Node's errno codes that have an obvious gRPC code, as ttrpc's Go server maps os errors. */
const ERRNO_CODES: Record<string, number> = {
  ENOENT: Code.NotFound,
  EEXIST: Code.AlreadyExists,
  EACCES: Code.PermissionDenied,
  EPERM: Code.PermissionDenied,
  EINVAL: Code.InvalidArgument,
};

/** The status a handler's failure is answered with: its own code if it threw a TtrpcError, else Unknown (or the errno's code). */
export function statusOf(err: unknown): { code: number; message: string } {
  if (err instanceof TtrpcError) return { code: err.code, message: err.message };
  if (err instanceof Error) {
    const errno = (err as NodeJS.ErrnoException).code;
    return { code: (errno && ERRNO_CODES[errno]) || Code.Unknown, message: err.message };
  }
  return { code: Code.Unknown, message: String(err) };
}
