// What can go wrong talking to Proxmox, one class per cause, so a user (and a test) can tell a
// bad token from a missing permission from a host that is down. Messages never carry the token.
import { BackendError, BerthError } from '../../core/errors.js';

/** HTTP 401: the API token is wrong, expired or of an unknown user. */
export class ProxmoxAuthError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_AUTH', message, options);
  }
}

/** HTTP 403, or an option only root@pam may set while berth uses an API token. */
export class ProxmoxPermissionError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_PERMISSION', message, options);
  }
}

/** The API host cannot be reached: refused, unresolvable, TLS verification failed. */
export class ProxmoxUnreachableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_UNREACHABLE', message, options);
  }
}

/** A request or a task did not finish in time. */
export class ProxmoxTimeoutError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_TIMEOUT', message, options);
  }
}

/** Proxmox answered with an error (HTTP 4xx/5xx other than 401/403, or pct exited non-zero). */
export class ProxmoxApiError extends BackendError {
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** A task ended with an exit status other than OK; the message carries the task's log. */
export class ProxmoxTaskError extends BackendError {
  readonly upid: string;
  readonly exitStatus: string;
  readonly log: string[];
  constructor(upid: string, exitStatus: string, log: string[], what: string) {
    const tail = log.slice(-20).join('\n');
    super(`Proxmox task ${what} failed: ${exitStatus}${tail ? `\ntask log (${upid}):\n${tail}` : ''}`);
    this.upid = upid;
    this.exitStatus = exitStatus;
    this.log = log;
  }
}

/** Proxmox's words for a VMID that is in use ("CT 101 already exists on node 'pve'"). */
export function isVmidTaken(err: unknown): boolean {
  return err instanceof Error && /\b(?:CT|VM) \d+ already exists|config file already exists/.test(err.message);
}

/** Proxmox's words for a storage that cannot make a linked clone of a volume. */
export function isLinkedCloneUnavailable(err: unknown): boolean {
  return err instanceof Error && /Linked clone feature for '[^']*' is not available/.test(err.message);
}
