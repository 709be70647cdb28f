// When and how long to wait before trying a registry request again: 429 and 5xx answers, reset
// connections and timeouts are worth another try; everything else (404, 401, refused, TLS) is
// not. Backoff doubles from BASE_MS up to CAP_MS with "equal jitter" (half fixed, half random),
// so clients that failed together do not come back together; Retry-After wins, within MAX_WAIT_MS.

const BASE_MS = 200;
const CAP_MS = 5_000;
const MAX_WAIT_MS = 30_000;

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

export function retryableStatus(status: number): boolean {
  return RETRY_STATUS.has(status);
}

/** A network failure that another try may not meet (a reset or a timeout, also of a body). */
export function retryableError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRY_CODES.has(code)) return true;
    if (/other side closed|socket hang up|aborted|terminated/i.test((e as Error).message ?? '')) return true;
  }
  return false;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before try `attempt + 1` (attempt counts from 1). */
export function retryDelay(attempt: number, retryAfter: string | string[] | undefined, random: () => number = Math.random): number {
  const asked = retryAfterMs(retryAfter);
  if (asked !== undefined) return Math.min(asked, MAX_WAIT_MS);
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
