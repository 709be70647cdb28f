// Secrets never reach a log line or an error message: values under secret-looking keys (at any
// depth) and token-shaped text inside strings (a Proxmox API token, a bearer token, key=value
// pairs named like secrets) are replaced. Applied where berth writes logs and its final error.

export const REDACTED = '[redacted]';

/** Keys whose values are secrets, wherever they stand in a logged object. */
const SECRET_KEY = /^(?:authorization|proxy-authorization|cookie|set-cookie|password|passwd|passphrase|secret|token|api[-_]?key|api[-_]?token|access[-_]?token|refresh[-_]?token|client[-_]?secret|private[-_]?key|credentials?|[a-z0-9]*[-_](?:token|secret|password))$/i;

/** Token-shaped text inside a string; group 1 is kept, the rest is replaced. */
const SECRET_TEXT: RegExp[] = [
  // Proxmox: PVEAPIToken=USER@REALM!TOKENID=SECRET (also with ':' as some clients write it)
  /(PVEAPIToken[=:]\s*)[^\s"',;]+/gi,
  // HTTP authorization schemes, as a header value or anywhere in a message
  /(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+/g,
  // An Authorization header line with any other scheme
  /(\bAuthorization:[ \t]*)(?![ \t]|PVEAPIToken[=:]|Bearer\s|Basic\s|\[redacted\])[^\r\n"]+/gi,
  // key=value / key: value / --key=value pairs named like secrets (argv, URLs, config dumps)
  /(\b(?:password|passwd|secret|token|api[-_]?key|api[-_]?token|access[-_]?token|client[-_]?secret)\s*[=:]\s*)(?!\[redacted\])[^\s"',;&]+/gi,
  // user:password@ in URLs
  /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+(?=@)/gi,
];

export function redactText(text: string): string {
  let out = text;
  for (const re of SECRET_TEXT) out = out.replace(re, `$1${REDACTED}`);
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `value` with secrets replaced; cycles and very deep nesting are cut. */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 12 || seen.has(value)) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redactValue(v, depth + 1, seen);
  return out;
}
