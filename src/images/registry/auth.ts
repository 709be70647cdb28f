// Registry authentication: anonymous, basic (--creds user:pass) and the bearer token flow that
// a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge asks for (distribution's
// token spec). Credentials and tokens live only in the Authorization header: never logged.
import { InvalidArgumentError } from '../../core/errors.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `USER:PASS` (the password may contain colons; the user may not). */
export function parseCredentials(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('--creds must be USER:PASSWORD (the user name before the first colon)');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** The first challenge of a WWW-Authenticate header: `Scheme k="v", k2=v2`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2]!;
  re.lastIndex = 0;
  let p: RegExpExecArray | null;
  while ((p = re.exec(rest)) !== null) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    if (re.lastIndex >= rest.length) break;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The token endpoint's URL for a bearer challenge, with service and scope. */
export function tokenUrl(challenge: Challenge, scope: string): URL {
  const realm = challenge.params.realm;
  if (!realm) throw new InvalidArgumentError('the registry asked for a bearer token but named no realm to get it from');
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? scope);
  return url;
}

/** The token in a token endpoint's JSON answer (`token`, or OAuth2's `access_token`). */
export function tokenFrom(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { token?: unknown; access_token?: unknown };
  const t = typeof b.token === 'string' && b.token !== '' ? b.token : b.access_token;
  return typeof t === 'string' && t !== '' ? t : undefined;
}
