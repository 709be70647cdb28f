// Errors → exit codes, and the last words of a failed call: one line on stderr, and with --log
// a final `"level":"error"` line that containerd shows its users. The table is in docs/cli.md.
import { BerthError, type ErrorCode } from '../core/errors.js';
import { configureLog, errorContext, errorFields, log, logsWritten } from '../core/log.js';
import { redactText } from '../core/redact.js';
import type { GlobalOptions } from './context.js';

export const EXIT_CODES: Record<ErrorCode, number> = {
  BERTH_ERR_INTERNAL: 1,
  BERTH_ERR_BACKEND: 1,
  BERTH_ERR_TOOL: 1,
  BERTH_ERR_STORAGE: 1,
  BERTH_ERR_USAGE: 2,
  BERTH_ERR_INVALID_ID: 3,
  BERTH_ERR_INVALID_BUNDLE: 3,
  BERTH_ERR_INVALID_CONFIG: 3,
  BERTH_ERR_INVALID_ARGUMENT: 3,
  BERTH_ERR_INVALID_SIGNAL: 3,
  BERTH_ERR_INVALID_IMAGE: 3,
  BERTH_ERR_NOT_FOUND: 4,
  BERTH_ERR_EXISTS: 5,
  BERTH_ERR_STATE: 5,
  BERTH_ERR_UNKNOWN_BACKEND: 6,
  BERTH_ERR_BACKEND_UNAVAILABLE: 6,
  BERTH_ERR_UNSUPPORTED: 6,
  BERTH_ERR_BUSY: 7,
  BERTH_ERR_STORAGE_FULL: 8,
  BERTH_ERR_AUTH: 9,
  BERTH_ERR_PERMISSION: 10,
  BERTH_ERR_UNREACHABLE: 11,
  BERTH_ERR_TIMEOUT: 12,
};

/** What each exit status means, for `berth help exit-codes` and the man pages (docs/cli.md says more). */
export const EXIT_MEANINGS: Record<number, string> = {
  0: 'success',
  1: 'a backend, tool or storage driver failed (its words are in the message), or an internal error',
  2: 'bad command line: unknown verb or option, missing value, wrong operands',
  3: 'bad input: container id, bundle, config file, argument, signal or image',
  4: 'not found: no such container, volume, snapshot or image',
  5: 'exists, or the status does not allow the verb',
  6: 'the backend is unknown, unusable here, or lacks the capability',
  7: "busy: another process has held the container's or image's lock too long",
  8: 'the storage is full',
  9: 'credentials refused (Proxmox API, registry)',
  10: 'permission: not root, a read-only state root, or refused by Proxmox',
  11: 'unreachable (Proxmox API, registry)',
  12: 'timed out',
};

export function exitCodeFor(err: unknown): number {
  return err instanceof BerthError ? EXIT_CODES[err.code] : 1;
}

export async function reportFailure(err: unknown, where: { op: string | undefined; id: string | undefined }, globals: Pick<GlobalOptions, 'log' | 'logFormat' | 'debug'>): Promise<number> {
  // Secrets (an API token in a tool's words) never reach the user's terminal or containerd.
  const message = redactText(err instanceof Error ? err.message : String(err));
  const code = err instanceof BerthError ? err.code : 'BERTH_ERR_INTERNAL';
  await logsWritten(); // a warning still on its way must not follow the error line
  if (globals.log !== undefined || globals.logFormat === 'json') {
    try {
      await log('error', message, { ...where, ...errorContext(err), ...errorFields(err) });
    } catch (logErr) {
      process.stderr.write(`berth: cannot write log: ${(logErr as Error).message}\n`);
    }
  }
  // With a JSON log on stderr, that line already is the message.
  if (globals.log !== undefined || globals.logFormat !== 'json') {
    const detail = err instanceof BerthError && err.detail ? `${redactText(err.detail).replace(/^/gm, '  ')}\n` : '';
    process.stderr.write(`berth: ${message}\n${detail}`);
  }
  if (globals.debug && err instanceof Error && err.stack) process.stderr.write(`${code}: ${err.stack}\n`);
  return exitCodeFor(err);
}

export { configureLog };
