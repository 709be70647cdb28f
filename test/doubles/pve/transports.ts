// Both transports against the DOUBLE, for suites that must pass over each: pct (the CLI double on
// PATH) and the API (the HTTPS double with a CA-verified certificate and an API token).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ApiTransport, type ApiTransportOptions } from '../../../src/backends/pve/api-transport.js';
import { PctTransport } from '../../../src/backends/pve/pct-transport.js';
import type { Proxmox } from '../../../src/backends/pve/proxmox.js';
import { startApiDouble, type ApiDouble } from './api-server.js';
import { makePveDouble, makeTls, type PveDouble, type TestTls } from './install.js';
import type { DoubleState } from './model.js';

export const TOKEN_ID = 'berth@pve!ci';

export interface Rig {
  transport: 'pct' | 'api';
  double: PveDouble;
  proxmox: Proxmox;
  /** The API double and its TLS material (api only). */
  api?: ApiDouble;
  tls?: TestTls;
  secret?: string;
  /** A fresh API transport with other options (api only). */
  apiTransport?: (o: Partial<ApiTransportOptions>) => ApiTransport;
  close(): Promise<void>;
}

export async function makeRig(transport: 'pct' | 'api', tweak?: (s: DoubleState) => void, apiOptions: Partial<ApiTransportOptions> = {}): Promise<Rig> {
  const secret = randomUUID();
  const double = makePveDouble((s) => {
    s.tokens[TOKEN_ID] = { secret, privileges: 'all' };
    s.tokens['auditor@pve!ro'] = { secret, privileges: 'audit' };
    tweak?.(s);
  });
  if (transport === 'pct') {
    const proxmox = new PctTransport({ node: 'pve', env: double.env, configDir: join(double.stateDir, 'etc/pve/lxc') });
    return { transport, double, proxmox, close: async () => double.cleanup() };
  }
  const tls = makeTls(double.root);
  const api = await startApiDouble(double.model, tls);
  const apiTransport = (o: Partial<ApiTransportOptions>): ApiTransport =>
    new ApiTransport({ url: api.url, node: 'pve', token: `${TOKEN_ID}=${secret}`, ca: tls.cert, taskTimeoutMs: 5000, requestTimeoutMs: 5000, ...apiOptions, ...o });
  return {
    transport,
    double,
    proxmox: apiTransport({}),
    api,
    tls,
    secret,
    apiTransport,
    close: async () => {
      await api.close();
      double.cleanup();
    },
  };
}
