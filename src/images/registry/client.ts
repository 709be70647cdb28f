// A distribution-spec (OCI registry API v2) client over undici: manifests by tag or digest with
// content negotiation, blobs as streams, authentication on the registry's challenge, redirects
// followed (a blob may live on another host: no Authorization goes there). undici rather than
// Node's global fetch: its Agent carries the timeouts and the TLS options (--tls-verify=false).
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { ImageNotFoundError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { MEDIA_TYPES } from '../media-types.js';
import { basicHeader, parseChallenge, tokenFrom, tokenUrl, type Credentials } from './auth.js';
import { retryDelay, retryableError, retryableStatus, sleep } from './retry.js';
import { apiHost, formatReference, isLoopbackHost, type ImageReference } from './reference.js';
import { RegistryAuthError, RegistryTimeoutError, RegistryUnreachableError } from './registry-errors.js';

export interface ClientOptions {
  /** From --creds, or from an auth file (`source` names it; `identityToken` for the token service). */
  credentials?: Credentials & { source?: string; identityToken?: string };
  /** false: https without certificate checks, falling back to plain http (skopeo's tls-verify=false). */
  tlsVerify?: boolean;
  /** Per request: connect and headers; a body may pause this long between chunks. */
  timeoutMs?: number;
  /** Tries of one request on 429, 5xx, a reset connection or a timeout (default 5). */
  attempts?: number;
  /** Ask the token service for push access too (image push). */
  push?: boolean;
}

/** Every manifest type berth reads, the lists first (the registry picks what it has). */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

/** Manifests and indexes above this are refused rather than buffered. */
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface FetchedManifest {
  mediaType: string;
  /** The registry's Docker-Content-Digest header, if it sent one (checked by the caller). */
  headerDigest: string | undefined;
  body: Buffer;
}

type Body = Dispatcher.ResponseData['body'];
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT';

export class RegistryClient {
  private readonly agent: Agent;
  private base: string | undefined;
  private authorization: string | undefined;
  private readonly what: string;
  private readonly op: string;

  constructor(
    private readonly ref: ImageReference,
    private readonly options: ClientOptions = {},
  ) {
    const timeout = options.timeoutMs ?? 30_000;
    this.agent = new Agent({ connect: { rejectUnauthorized: options.tlsVerify !== false, timeout }, headersTimeout: timeout, bodyTimeout: timeout });
    this.what = `registry ${ref.registry}`;
    this.op = options.push ? 'image-push' : 'image-pull';
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  async getManifest(reference: string): Promise<FetchedManifest> {
    const res = await this.get(`manifests/${reference}`, MANIFEST_ACCEPT, `manifest ${reference}`);
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    const length = Number(res.headers['content-length'] ?? 0);
    if (length > MAX_MANIFEST) {
      res.body.destroy();
      throw new RegistryUnreachableError(`${this.what}: manifest ${reference} is ${length} bytes, too large for a manifest`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > MAX_MANIFEST) {
        res.body.destroy();
        throw new RegistryUnreachableError(`${this.what}: manifest ${reference} is more than ${MAX_MANIFEST} bytes, too large for a manifest`);
      }
      chunks.push(c as Buffer);
    }
    const digest = res.headers['docker-content-digest'];
    return { mediaType, headerDigest: typeof digest === 'string' ? digest : undefined, body: Buffer.concat(chunks) };
  }

  /**
   * The blob's bytes as a stream (verified by the caller while it streams); from byte `offset`
   * on with a Range request. `start` is where the stream begins: `offset` when the registry
   * answered 206, 0 when it sent the whole blob instead.
   */
  async getBlob(digest: string, offset = 0): Promise<{ body: Readable; start: number }> {
    const res = await this.call(`blobs/${digest}`, '*/*', `blob ${digest}`, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {}, allow: offset > 0 ? [416] : [] });
    if (res.statusCode === 416) {
      // The registry will not serve that range (the blob is shorter than the partial file?): from the start.
      await drain(res.body);
      return this.getBlob(digest, 0);
    }
    const range = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
    const start = res.statusCode === 206 && range ? Number(range[1]) : 0;
    return { body: res.body, start };
  }

  /** What to tell a user whose credentials were refused: the file they came from, or --creds. */
  private credsHint(): string {
    const source = this.options.credentials?.source;
    return source ? `check the entry for ${this.ref.registry} in ${source} (or give --creds USER:PASSWORD)` : 'check --creds USER:PASSWORD';
  }

  /** True when the repository has the blob (HEAD; for push). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.call(`blobs/${digest}`, '*/*', `blob ${digest}`, { method: 'HEAD', allow: [404] });
    await drain(res.body);
    return res.statusCode !== 404;
  }

  /** Uploads a blob in one PUT (POST /blobs/uploads/, then PUT its Location with ?digest=). */
  async uploadBlob(digest: string, size: number, open: () => Readable): Promise<void> {
    const started = await this.call('blobs/uploads/', '*/*', `an upload of ${digest}`, { method: 'POST', headers: { 'content-length': '0' } });
    await drain(started.body);
    const location = started.headers.location;
    if (started.statusCode !== 202 || !location) throw new RegistryUnreachableError(`${this.what} answered HTTP ${started.statusCode} without a Location to an upload of ${digest}`);
    const url = new URL(String(location), await this.baseUrl());
    url.searchParams.set('digest', digest);
    const done = await this.call(url, '*/*', `the upload of ${digest}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: open });
    await drain(done.body);
  }

  /** PUT /v2/<repo>/manifests/<reference>: the manifest's bytes as they are (their digest is the image's). */
  async putManifest(reference: string, mediaType: string, body: Buffer): Promise<string | undefined> {
    const res = await this.call(`manifests/${reference}`, '*/*', `manifest ${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: () => body });
    await drain(res.body);
    const digest = res.headers['docker-content-digest'];
    return typeof digest === 'string' ? digest : undefined;
  }

  private get(path: string, accept: string, what: string, extra: Record<string, string> = {}): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined>; body: Body }> {
    return this.call(path, accept, what, { headers: extra });
  }

  /**
   * A request to /v2/<repo>/<path> (or a URL the registry gave), authenticating on a 401
   * challenge (for pull, or pull and push with options.push), following a GET's redirects.
   * `allow`: statuses handed back rather than thrown (HEAD's 404).
   */
  private async call(
    path: string | URL,
    accept: string,
    what: string,
    opts: { method?: Method; headers?: Record<string, string>; body?: () => Buffer | Readable; allow?: number[] } = {},
  ): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined>; body: Body }> {
    const base = await this.baseUrl();
    const method = opts.method ?? 'GET';
    const extra = opts.headers ?? {};
    let url = typeof path === 'string' ? new URL(`${base}/v2/${this.ref.repository}/${path}`) : path;
    let res = await this.send(url, accept, true, extra, method, opts.body);
    if (res.statusCode === 401) {
      await this.authenticate(res, `repository:${this.ref.repository}:${this.options.push ? 'pull,push' : 'pull'}`);
      res = await this.send(url, accept, true, extra, method, opts.body);
      if (res.statusCode === 401) {
        await drain(res.body);
        throw new RegistryAuthError(`${this.what} refused the credentials for ${formatReference(this.ref)} (HTTP 401): ${this.credsHint()}`);
      }
    }
    for (let hops = 0; (method === 'GET' || method === 'HEAD') && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location; hops++) {
      await drain(res.body);
      if (hops >= MAX_REDIRECTS) throw new RegistryUnreachableError(`${this.what}: more than ${MAX_REDIRECTS} redirects for ${what}`);
      const next = new URL(String(res.headers.location), url);
      res = await this.send(next, accept, next.host === url.host, extra, method);
      url = next;
    }
    if ((res.statusCode >= 200 && res.statusCode < 300) || opts.allow?.includes(res.statusCode)) return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    const text = await snippet(res.body);
    if (res.statusCode === 404) {
      throw new ImageNotFoundError(`${this.what} has no ${what} in ${this.ref.repository} (HTTP 404${text ? `: ${text}` : ''}); check the name and tag of ${formatReference(this.ref)}`);
    }
    if (res.statusCode === 403) throw new RegistryAuthError(`${this.what} denies access to ${formatReference(this.ref)} (HTTP 403${text ? `: ${text}` : ''}); ${this.credsHint()}`);
    throw new RegistryUnreachableError(`${this.what} answered HTTP ${res.statusCode} for ${what}${text ? `: ${text}` : ''}`);
  }

  /**
   * One GET, tried again (bounded, with jittered exponential backoff, honouring Retry-After) on
   * 429, 5xx, a reset connection or a timeout; the last answer or error is the caller's.
   */
  private async send(url: URL, accept: string, withAuth: boolean, extra: Record<string, string> = {}, method: Method = 'GET', body?: () => Buffer | Readable): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept, 'user-agent': 'berth', ...extra };
    if (withAuth && this.authorization) headers.authorization = this.authorization;
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method, headers, body: body?.(), dispatcher: this.agent });
      } catch (err) {
        if (attempt >= attempts || !retryableError(err)) throw this.networkError(err, url);
        const wait = retryDelay(attempt, undefined);
        await log('debug', `${method} ${url.href}: ${(err as { code?: string }).code ?? (err as Error).message}; retry ${attempt} of ${attempts - 1} in ${wait} ms`, { op: 'image-pull' });
        await sleep(wait);
        continue;
      }
      await log('debug', `${method} ${url.origin}${url.pathname}${extra.range ? ` (${extra.range})` : ''} → ${res.statusCode}`, { op: this.op });
      if (attempt >= attempts || !retryableStatus(res.statusCode)) return res;
      const wait = retryDelay(attempt, res.headers['retry-after']);
      await drain(res.body);
      await log('debug', `${method} ${url.origin}${url.pathname}: HTTP ${res.statusCode}; retry ${attempt} of ${attempts - 1} in ${wait} ms`, { op: 'image-pull' });
      await sleep(wait);
    }
  }

  private networkError(err: unknown, url: URL): Error {
    const code = (err as { code?: string }).code ?? '';
    if (/TIMEOUT/.test(code)) return new RegistryTimeoutError(`${this.what} did not answer ${url.pathname} in time (${code})`, { cause: err });
    const tls = /CERT|SSL|TLS|SELF_SIGNED|EPROTO/i.test(`${code} ${(err as Error).message}`);
    const hint = tls && this.options.tlsVerify !== false ? '; for a registry without a trusted certificate (or plain http) use --tls-verify=false' : '';
    return new RegistryUnreachableError(`cannot reach ${this.what} (${url.protocol}//${url.host}): ${(err as Error).message}${hint}`, { cause: err });
  }

  /**
   * https://HOST, or with --tls-verify=false the first of https (unverified) and http that
   * answers /v2/ (a loopback registry, the usual insecure one, is tried on http first).
   */
  private async baseUrl(): Promise<string> {
    if (this.base) return this.base;
    const host = apiHost(this.ref);
    if (this.options.tlsVerify !== false) return (this.base = `https://${host}`);
    const order = isLoopbackHost(host) ? ['http', 'https'] : ['https', 'http'];
    let first: unknown;
    for (const scheme of order) {
      try {
        const res = await this.send(new URL(`${scheme}://${host}/v2/`), 'application/json', false);
        await drain(res.body);
        return (this.base = `${scheme}://${host}`);
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  }

  private async authenticate(res: Dispatcher.ResponseData, scope: string): Promise<void> {
    await drain(res.body);
    const header = res.headers['www-authenticate'];
    const challenge = parseChallenge(Array.isArray(header) ? header[0] : header);
    const creds = this.options.credentials;
    if (challenge?.scheme === 'basic') {
      if (!creds || creds.identityToken) throw new RegistryAuthError(`${this.what} needs credentials for ${formatReference(this.ref)} (HTTP 401, basic): give them with --creds USER:PASSWORD or log in (skopeo login, docker login)`);
      this.authorization = basicHeader(creds);
      return;
    }
    if (challenge?.scheme !== 'bearer') {
      throw new RegistryAuthError(`${this.what} answered HTTP 401 for ${formatReference(this.ref)} with no usable challenge (${challenge?.scheme ?? 'none'})`);
    }
    const url = tokenUrl(challenge, scope);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'berth' };
    // An identity token (docker login's OAuth2 refresh token) is posted as the OAuth2 form;
    // a user and password go as basic auth on the GET the token spec describes.
    const identity = creds?.identityToken;
    let form: string | undefined;
    if (identity) {
      const p = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identity, client_id: 'berth', scope: url.searchParams.get('scope') ?? scope });
      if (challenge.params.service) p.set('service', challenge.params.service);
      form = p.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (creds) headers.authorization = basicHeader(creds);
    const method = form ? 'POST' : 'GET';
    let tokenRes: Dispatcher.ResponseData;
    try {
      tokenRes = await request(form ? new URL(url.origin + url.pathname) : url, { method, headers, body: form, dispatcher: this.agent });
    } catch (err) {
      throw this.networkError(err, url);
    }
    await log('debug', `${method} ${url.origin}${url.pathname} (token) → ${tokenRes.statusCode}`, { op: 'image-pull' });
    if (tokenRes.statusCode === 401 || tokenRes.statusCode === 403) {
      await drain(tokenRes.body);
      throw new RegistryAuthError(`the token service of ${this.what} (${url.host}) refused ${creds ? 'the credentials' : 'anonymous access'} for ${formatReference(this.ref)} (HTTP ${tokenRes.statusCode})${creds ? `: ${this.credsHint()}` : ': give credentials with --creds USER:PASSWORD'}`);
    }
    if (tokenRes.statusCode !== 200) throw new RegistryAuthError(`the token service of ${this.what} (${url.host}) answered HTTP ${tokenRes.statusCode}: ${await snippet(tokenRes.body)}`);
    let token: string | undefined;
    try {
      token = tokenFrom(await tokenRes.body.json());
    } catch {
      token = undefined;
    }
    if (!token) throw new RegistryAuthError(`the token service of ${this.what} (${url.host}) sent no token`);
    this.authorization = `Bearer ${token}`;
  }
}

async function drain(body: Body): Promise<void> {
  try {
    await body.dump();
  } catch {
    // the connection is dropped instead: nothing to keep
  }
}

/** The first 200 characters of an error body (the registry's JSON errors name the cause). */
async function snippet(body: Body): Promise<string> {
  let text: string;
  try {
    text = (await body.text()).trim();
  } catch {
    return '';
  }
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(parsed.errors) && parsed.errors.length) return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ').slice(0, 200);
  } catch {
    // not the registry's JSON error: the text as it is
  }
  return text.slice(0, 200);
}
