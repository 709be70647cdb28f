// Proxmox through its REST API (https://HOST:8006/api2/json), from the node or from anywhere.
// Authentication: an API token, sent only in the Authorization header and never logged or put in
// an error. TLS: verified against a CA file, or a pinned SHA-256 certificate fingerprint (checked
// before a byte of the request is sent), or the system CAs; `insecure` is an explicit opt-out.
// Calls that start a task answer a UPID, polled until the task stops; a failed task's log is in
// the error.
import { request, type RequestOptions } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { sleep } from '../../core/clock.js';
import { InvalidConfigError, UnsupportedError } from '../../core/errors.js';
import { configFromApi, statusFromApi } from './pct-transport.js';
import { ProxmoxApiError, ProxmoxAuthError, ProxmoxPermissionError, ProxmoxTaskError, ProxmoxTimeoutError, ProxmoxUnreachableError } from './pve-errors.js';
import type { CloneOptions, DestroyOptions, ExecResult, Proxmox, PveConfig, PveOptions, PveStatus, PveVersion, RawLxcEntry } from './proxmox.js';

export interface ApiTransportOptions {
  /** https://HOST[:PORT]; the path /api2/json is added. */
  url: string;
  node: string;
  /** USER@REALM!TOKENID=SECRET */
  token: string;
  /** PEM text of the CA (or the self-signed certificate) that signed the API's certificate. */
  ca?: string;
  /** The certificate's SHA-256 fingerprint, hex with or without colons. */
  fingerprint?: string;
  /** No certificate check at all: only by explicit choice. */
  insecure?: boolean;
  /** One HTTP request (default 30 s). */
  requestTimeoutMs?: number;
  /** One task, from its start to `stopped` (default 10 min). */
  taskTimeoutMs?: number;
}

const TOKEN = /^([^\s!@]+@[^\s!]+)!([A-Za-z][\w.-]*)=(\S+)$/;

export class ApiTransport implements Proxmox {
  readonly transport = 'api' as const;
  readonly isRoot = false; // an API token is never root@pam, even root@pam's own token
  readonly node: string;
  readonly hostLocal: boolean;
  private readonly base: URL;
  /** A true private field: it never shows in JSON.stringify, util.inspect or a log line. */
  readonly #authorization: string;
  private readonly options: Omit<ApiTransportOptions, 'token'>;
  /** USER@REALM!TOKENID: names the token in messages without its secret. */
  readonly tokenId: string;
  private readonly pin: string | undefined;

  constructor(options: ApiTransportOptions) {
    const { token, ...rest } = options;
    this.options = rest;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InvalidConfigError(`proxmox.api_url "${options.url}" is not a URL (expected https://HOST:8006)`);
    }
    if (url.protocol !== 'https:') throw new InvalidConfigError(`proxmox.api_url must use https (got ${url.protocol}//…)`);
    this.base = url;
    this.node = options.node;
    const m = TOKEN.exec(token.trim());
    if (!m) throw new InvalidConfigError('the Proxmox API token must look like USER@REALM!TOKENID=SECRET (the secret is not shown)');
    this.tokenId = `${m[1]}!${m[2]}`;
    this.#authorization = `PVEAPIToken=${m[1]}!${m[2]}=${m[3]}`;
    this.pin = options.fingerprint === undefined ? undefined : normalizeFingerprint(options.fingerprint);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    this.hostLocal = host === 'localhost' || host === '::1' || host.startsWith('127.');
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  /** Opens the TLS connection and checks the certificate before the request (and its token) goes out. */
  private connectTls(callback: (err: Error | null, socket?: Socket) => void): void {
    let settled = false;
    const done = (err: Error | null, s?: Socket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callback(err, s);
    };
    const timeout = this.options.requestTimeoutMs ?? 30_000;
    const host = this.base.hostname.replace(/^\[|\]$/g, '');
    const pinned = this.pin !== undefined;
    const socket: TLSSocket = connect({
      host,
      port: Number(this.base.port || 8006),
      servername: isIP(host) ? undefined : host,
      ca: this.options.ca,
      rejectUnauthorized: !pinned && !this.options.insecure,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      done(new ProxmoxTimeoutError(`no TLS connection to the Proxmox API at ${this.base.host} within ${timeout / 1000} s`));
    }, timeout);
    socket.once('secureConnect', () => {
      if (pinned) {
        const got = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? '');
        if (got !== this.pin) {
          socket.destroy();
          done(new ProxmoxUnreachableError(`the certificate of ${this.base.host} does not match the pinned fingerprint (got ${got}, pinned ${this.pin}); nothing was sent`));
          return;
        }
      }
      done(null, socket);
    });
    socket.once('error', (err) => done(err));
  }

  private call(method: string, path: string, params: Record<string, string> = {}, multipart?: { fields: Record<string, string>; file: string; filename: string }): Promise<unknown> {
    const url = new URL(`/api2/json${path}`, this.base);
    let body: Buffer | undefined;
    const headers: Record<string, string> = { Authorization: this.#authorization, Accept: 'application/json' };
    if (multipart) {
      const boundary = `----berth${randomBytes(12).toString('hex')}`;
      const parts: Buffer[] = [];
      for (const [k, v] of Object.entries(multipart.fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="filename"; filename="${multipart.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
      parts.push(readFileSync(multipart.file), Buffer.from(`\r\n--${boundary}--\r\n`));
      body = Buffer.concat(parts);
      headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
    } else if (method === 'GET' || method === 'DELETE') {
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    } else {
      body = Buffer.from(new URLSearchParams(params).toString());
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    if (body) headers['Content-Length'] = String(body.length);
    const what = `${method} ${url.pathname}`;
    const timeout = this.options.requestTimeoutMs ?? 30_000;
    const opts: RequestOptions = {
      method,
      headers,
      createConnection: ((_: unknown, cb: (err: Error | null, s?: Socket) => void) => this.connectTls(cb)) as unknown as RequestOptions['createConnection'],
    };
    return new Promise((resolveCall, rejectCall) => {
      // One deadline for the whole exchange (the request's own `timeout` does not cover a
      // connection made by createConnection).
      const timer = setTimeout(() => req.destroy(new ProxmoxTimeoutError(`Proxmox API ${what} did not answer within ${timeout / 1000} s`)), timeout);
      const resolve = (v: unknown): void => {
        clearTimeout(timer);
        resolveCall(v);
      };
      const reject = (e: Error): void => {
        clearTimeout(timer);
        rejectCall(e);
      };
      const req = request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new ProxmoxUnreachableError(`${what}: the connection to ${this.base.host} broke: ${err.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: { data?: unknown; message?: string; errors?: Record<string, string> } = {};
          try {
            json = text ? (JSON.parse(text) as typeof json) : {};
          } catch {
            /* an HTML error page from a proxy: the status line says enough */
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(json.data ?? null);
          const reason = (json.message ?? res.statusMessage ?? '').trim();
          const details = json.errors ? ` (${Object.entries(json.errors).map(([k, v]) => `${k}: ${String(v).trim()}`).join('; ')})` : '';
          if (status === 401) return reject(new ProxmoxAuthError(`Proxmox API at ${this.base.host} rejected API token ${this.tokenId}: 401 ${reason}`));
          if (status === 403) return reject(new ProxmoxPermissionError(`Proxmox API token ${this.tokenId} may not ${what}: 403 ${reason}`));
          reject(new ProxmoxApiError(`Proxmox API ${what} failed: ${status} ${reason}${details}`, status));
        });
      });
      req.on('error', (err) => {
        if (err instanceof ProxmoxTimeoutError || err instanceof ProxmoxUnreachableError) return reject(err);
        if (err instanceof ProxmoxAuthError || err instanceof ProxmoxPermissionError) return reject(err);
        reject(new ProxmoxUnreachableError(`cannot reach the Proxmox API at ${this.base.host}: ${describeNetError(err)}`, { cause: err }));
      });
      req.end(body);
    });
  }

  /** Waits for a task to stop; its exit status OK (or WARNINGS) is success. */
  private async waitTask(upid: unknown, what: string): Promise<void> {
    if (typeof upid !== 'string' || !upid.startsWith('UPID:')) return; // answered at once, no task
    const node = upid.split(':')[1] ?? this.node;
    const path = `/nodes/${node}/tasks/${encodeURIComponent(upid)}`;
    const timeoutMs = this.options.taskTimeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    let delay = 25;
    for (;;) {
      const st = (await this.call('GET', `${path}/status`)) as { status?: string; exitstatus?: string };
      if (st.status === 'stopped') {
        const exit = st.exitstatus ?? 'unknown';
        if (exit === 'OK' || exit.startsWith('WARNINGS')) return;
        throw new ProxmoxTaskError(upid, exit, await this.taskLog(path), what);
      }
      if (Date.now() >= deadline) {
        const log = await this.taskLog(path).catch(() => []);
        throw new ProxmoxTimeoutError(`Proxmox task ${what} (${upid}) did not finish within ${timeoutMs / 1000} s${log.length ? `; log so far:\n${log.slice(-10).join('\n')}` : ''}`);
      }
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 1000);
    }
  }

  private async taskLog(path: string): Promise<string[]> {
    const rows = (await this.call('GET', `${path}/log`, { limit: '500' })) as Array<{ n: number; t: string }> | null;
    return (rows ?? []).map((r) => r.t);
  }

  private ct(vmid: number, sub = ''): string {
    return `/nodes/${this.node}/lxc/${vmid}${sub}`;
  }

  // ---- Proxmox ------------------------------------------------------------------------------

  async version(): Promise<PveVersion> {
    const v = (await this.call('GET', '/version')) as { version: string; release: string };
    return { version: String(v.version), release: String(v.release) };
  }

  async nextId(): Promise<number> {
    return Number(await this.call('GET', '/cluster/nextid'));
  }

  async create(vmid: number, ostemplate: string, options: PveOptions): Promise<void> {
    await this.waitTask(await this.call('POST', `/nodes/${this.node}/lxc`, { vmid: String(vmid), ostemplate, ...options }), `create of CT ${vmid}`);
  }

  async getConfig(vmid: number): Promise<PveConfig> {
    return configFromApi((await this.call('GET', this.ct(vmid, '/config'))) as Record<string, unknown>);
  }

  async setConfig(vmid: number, options: PveOptions, remove: string[] = []): Promise<void> {
    const params = { ...options };
    if (remove.length) params.delete = remove.join(',');
    await this.call('PUT', this.ct(vmid, '/config'), params);
  }

  async appendLxc(_vmid: number, entries: RawLxcEntry[]): Promise<void> {
    if (entries.length === 0) return;
    throw new ProxmoxPermissionError(
      `raw LXC keys (${[...new Set(entries.map((e) => e.key))].join(', ')}) can only be written by root on the Proxmox node (transport = "pct"); the API does not accept them from token ${this.tokenId}`,
    );
  }

  async status(vmid: number): Promise<PveStatus> {
    return statusFromApi((await this.call('GET', this.ct(vmid, '/status/current'))) as Record<string, unknown>, vmid);
  }

  async start(vmid: number): Promise<void> {
    await this.waitTask(await this.call('POST', this.ct(vmid, '/status/start')), `start of CT ${vmid}`);
  }

  async stop(vmid: number): Promise<void> {
    await this.waitTask(await this.call('POST', this.ct(vmid, '/status/stop')), `stop of CT ${vmid}`);
  }

  async shutdown(vmid: number, timeoutS: number): Promise<void> {
    await this.waitTask(await this.call('POST', this.ct(vmid, '/status/shutdown'), { timeout: String(timeoutS) }), `shutdown of CT ${vmid}`);
  }

  async destroy(vmid: number, options: DestroyOptions): Promise<void> {
    const params: Record<string, string> = {};
    if (options.purge) params.purge = '1';
    if (options.force) params.force = '1';
    await this.waitTask(await this.call('DELETE', this.ct(vmid), params), `destroy of CT ${vmid}`);
  }

  /** Proxmox answers null and converts in a background worker: wait for `template: 1`. */
  async template(vmid: number): Promise<void> {
    await this.waitTask(await this.call('POST', this.ct(vmid, '/template')), `template of CT ${vmid}`);
    const deadline = Date.now() + (this.options.taskTimeoutMs ?? 600_000);
    while ((await this.getConfig(vmid)).options.template !== '1') {
      if (Date.now() > deadline) throw new ProxmoxTimeoutError(`CT ${vmid} did not become a template in time`);
      await sleep(100);
    }
  }

  async clone(vmid: number, newid: number, options: CloneOptions): Promise<void> {
    const params: Record<string, string> = { newid: String(newid) };
    if (options.full) params.full = '1';
    if (options.hostname) params.hostname = options.hostname;
    if (options.description) params.description = options.description;
    if (options.storage) params.storage = options.storage;
    await this.waitTask(await this.call('POST', this.ct(vmid, '/clone'), params), `clone of CT ${vmid} to ${newid}`);
  }

  async exec(vmid: number): Promise<ExecResult> {
    throw new UnsupportedError(`cannot exec in CT ${vmid}: the Proxmox API has no exec for containers; use transport = "pct" on the node`);
  }

  async list(): Promise<PveStatus[]> {
    const rows = (await this.call('GET', `/nodes/${this.node}/lxc`)) as Array<Record<string, unknown>>;
    return rows.map((r) => statusFromApi(r, Number(r.vmid)));
  }

  async uploadTemplate(storage: string, file: string, name: string): Promise<string> {
    const upid = await this.call('POST', `/nodes/${this.node}/storage/${encodeURIComponent(storage)}/upload`, {}, { fields: { content: 'vztmpl' }, file, filename: name });
    await this.waitTask(upid, `upload of ${name} to ${storage}`);
    return `${storage}:vztmpl/${name}`;
  }

  async freeVolume(volid: string): Promise<void> {
    const storage = volid.split(':')[0]!;
    await this.waitTask(await this.call('DELETE', `/nodes/${this.node}/storage/${encodeURIComponent(storage)}/content/${encodeURIComponent(volid)}`), `removal of ${volid}`);
  }
}

export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

function describeNetError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
    return `TLS verification failed (${code}: ${err.message}); set proxmox.ca_file or proxmox.fingerprint`;
  }
  if (code === 'ECONNREFUSED') return `connection refused (${err.message})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${err.message})`;
  return code ? `${code}: ${err.message}` : err.message;
}
