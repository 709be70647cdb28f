// What can go wrong talking to a registry, one class per cause, so a user (and a test) can tell
// wrong credentials from a registry that is down. Messages never carry credentials or tokens.
import { BerthError } from '../../core/errors.js';

/** HTTP 401/403: credentials missing, wrong, or without access to the repository. */
export class RegistryAuthError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_AUTH', message, options);
  }
}

/** The registry cannot be reached (refused, unresolvable, TLS failed) or answered 5xx / nonsense. */
export class RegistryUnreachableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_UNREACHABLE', message, options);
  }
}

/** A request (or a blob's body) took longer than its timeout. */
export class RegistryTimeoutError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_TIMEOUT', message, options);
  }
}
