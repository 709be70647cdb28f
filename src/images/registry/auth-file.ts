// Credentials from the files other tools log in to: `$REGISTRY_AUTH_FILE`, then
// `$XDG_RUNTIME_DIR/containers/auth.json` (podman/skopeo login), then `~/.docker/config.json`
// (docker login). The first file with an entry for the registry wins, as in containers/image.
// Entries are the `auths` map: `auth` (base64 USER:PASS) or `identitytoken` (an OAuth2 refresh
// token for the registry's token service). Keys may be `host`, `host:port`, `host/repo`
// (most specific first) or a URL such as `https://index.docker.io/v1/`. The secrets stay here
// and in the Authorization header: never logged, never in an error message.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../core/errors.js';
import type { Credentials } from './auth.js';

export interface FileCredentials extends Credentials {
  /** The file they came from, for error messages ("check … in FILE"). */
  source: string;
  /** An OAuth2 refresh token instead of a password (docker's `identitytoken`). */
  identityToken?: string;
}

/** The auth files to read, in order (only those that exist are read). */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(join(env.HOME || homedir(), '.docker', 'config.json'));
  return files;
}

/** A key of the `auths` map as host[:port][/path], without scheme or docker's `/v1/` suffix. */
export function normalizeAuthKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  if (/\/v[12]$/.test(k) && !k.slice(0, -3).includes('/')) k = k.slice(0, -3);
  const host = k.split('/')[0]!;
  // Docker Hub is written in several ways; they are all the one registry.
  if (['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host)) k = `docker.io${k.slice(host.length)}`;
  return k;
}

interface AuthEntry {
  auth?: unknown;
  identitytoken?: unknown;
}

function readAuths(file: string): Map<string, AuthEntry> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`credentials file ${file} is not readable JSON (${(err as Error).message.split('\n')[0]}); fix or remove it, or give --creds`, { cause: err });
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  const map = new Map<string, AuthEntry>();
  if (!auths || typeof auths !== 'object') return map;
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (entry && typeof entry === 'object') map.set(normalizeAuthKey(key), entry as AuthEntry);
  }
  return map;
}

function decode(entry: AuthEntry, file: string, key: string): FileCredentials | undefined {
  const identityToken = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  if (typeof entry.auth !== 'string' || entry.auth === '') {
    return identityToken ? { username: '', password: '', identityToken, source: file } : undefined;
  }
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0 && !identityToken) throw new InvalidArgumentError(`credentials file ${file}: the "auth" of ${key} is not base64 of USER:PASSWORD; log in again or give --creds`);
  return { username: colon > 0 ? text.slice(0, colon) : '', password: colon > 0 ? text.slice(colon + 1) : '', ...(identityToken ? { identityToken } : {}), source: file };
}

/**
 * The credentials for `registry` (host[:port] as in the reference; docker.io for Docker Hub) and
 * `repository`, from the first auth file with a matching entry; undefined when none has one.
 */
export function credentialsFromFiles(registry: string, repository: string, env: NodeJS.ProcessEnv = process.env): FileCredentials | undefined {
  const host = normalizeAuthKey(registry);
  // Most specific first: host/a/b, host/a, host.
  const parts = repository.split('/');
  const keys = [...parts.map((_, i) => `${host}/${parts.slice(0, parts.length - i).join('/')}`), host];
  for (const file of authFiles(env)) {
    if (!existsSync(file)) continue;
    const auths = readAuths(file);
    for (const key of keys) {
      const entry = auths.get(key);
      if (entry) {
        const creds = decode(entry, file, key);
        if (creds) return creds;
      }
    }
  }
  return undefined;
}
