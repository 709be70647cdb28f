// The HTTP side of `berth serve`: /metrics, /healthz and /readyz on node:http. Loopback by
// default; another address only when the user names it. With a token, /metrics needs
// `Authorization: Bearer <token>` (the health endpoints reveal nothing and stay open).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { InvalidArgumentError, errnoCode } from '../core/errors.js';
import type { BerthMetrics } from './metrics.js';

export const DEFAULT_LISTEN = '127.0.0.1:9190';

export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** `HOST:PORT`, `[IPv6]:PORT` or `unix:/PATH`. The host is required: no implicit "all interfaces". */
export function parseListen(value: string): ListenAddress {
  if (value.startsWith('unix:')) {
    const path = value.slice(5);
    if (!path.startsWith('/')) throw new InvalidArgumentError(`--listen unix:PATH needs an absolute path, got "${value}"`);
    return { kind: 'unix', path };
  }
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || port > 65535) {
    throw new InvalidArgumentError(`--listen takes HOST:PORT, [IPV6]:PORT or unix:/PATH (for every interface say 0.0.0.0:PORT), got "${value}"`);
  }
  if (isIP(host) === 0 && host !== 'localhost') throw new InvalidArgumentError(`--listen needs an IP address (or localhost), got host "${host}"`);
  return { kind: 'tcp', host, port };
}

export function isLoopback(address: ListenAddress): boolean {
  if (address.kind === 'unix') return true;
  return address.host === 'localhost' || address.host === '::1' || /^127\./.test(address.host);
}

/** The bearer token from its file (trailing newline dropped); the token itself is never logged. */
export function readTokenFile(path: string): { token: string; warning: string | undefined } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`--token-file ${path} cannot be read (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
  }
  const token = text.replace(/\r?\n$/, '');
  if (token === '' || /\s/.test(token)) throw new InvalidArgumentError(`--token-file ${path} must hold one token: non-empty, no whitespace`);
  const mode = statSync(path).mode & 0o777;
  const warning = mode & 0o077 ? `token file ${path} is readable by group or others (mode ${mode.toString(8)}); chmod 600 it` : undefined;
  return { token, warning };
}

export interface MetricsServerOptions {
  listen: ListenAddress;
  token: string | undefined;
  metrics: BerthMetrics;
}

export interface MetricsServer {
  /** Where it listens: http://HOST:PORT or unix:PATH. */
  url: string;
  close(): Promise<void>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  let notReady: string | undefined = 'the journal has not been read yet';
  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD\n');
    if (path === '/healthz') return send(res, 200, 'ok\n');
    if (path === '/readyz') return notReady === undefined ? send(res, 200, 'ready\n') : send(res, 503, `not ready: ${notReady}\n`);
    if (path !== '/metrics') return send(res, 404, 'not found: try /metrics, /healthz or /readyz\n');
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, 'unauthorized: send Authorization: Bearer <token>\n');
    }
    try {
      const body = await options.metrics.scrape();
      notReady = undefined;
      send(res, 200, body, options.metrics.contentType);
    } catch (err) {
      notReady = `cannot collect metrics: ${(err as Error).message}`;
      send(res, 500, `${notReady}\n`);
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  // The first read of the journal makes the server ready; an unreadable journal is reported by
  // /readyz, not fatal (corrupt lines are only counted).
  try {
    options.metrics.readJournal();
    notReady = undefined;
  } catch (err) {
    notReady = `cannot read the journal: ${(err as Error).message}`;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.listen.kind === 'unix') server.listen(options.listen.path, resolve);
    else server.listen(options.listen.port, options.listen.host, resolve);
  });
  const addr = server.address();
  const url = typeof addr === 'string' ? `unix:${addr}` : addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : '?';
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
