// From `[proxmox]` (and the environment) to a transport and a backend: which transport and why,
// where the API token comes from (never logged), how TLS is verified.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ProxmoxConfig } from '../../core/config.js';
import { BackendUnavailableError, InvalidConfigError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { ApiTransport } from './api-transport.js';
import { PctTransport } from './pct-transport.js';
import { PveBackend } from './pve-backend.js';
import type { MapOciToLxc } from './pve-mapping.js';
import type { Proxmox } from './proxmox.js';
import { parseVmidRange } from './vmid-allocator.js';

/** `[proxmox]` with every default filled in, for a config file without the section. */
export function proxmoxDefaults(): ProxmoxConfig {
  return { storage: 'local-zfs', template_storage: 'local', bridge: 'vmbr0', vmid_range: '100-999999999', unprivileged: true, insecure: false, task_timeout: 600 };
}

export function onPath(bin: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = `${dir}/${bin}`;
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

export interface TransportChoice {
  transport: 'pct' | 'api' | undefined;
  reason: string;
}

/** Which transport, and why; undefined with the reason when neither can be used. */
export function chooseTransport(cfg: ProxmoxConfig, env: NodeJS.ProcessEnv): TransportChoice {
  const pct = onPath('pct', env);
  if (cfg.transport === 'pct') return pct ? { transport: 'pct', reason: `transport = "pct" (${pct})` } : { transport: undefined, reason: 'transport = "pct" but pct is not on PATH (not a Proxmox VE node?)' };
  if (cfg.transport === 'api') return { transport: 'api', reason: `transport = "api" (${cfg.api_url})` };
  if (pct) return { transport: 'pct', reason: `pct found at ${pct}` };
  if (cfg.api_url) return { transport: 'api', reason: `pct not on PATH; api_url = ${cfg.api_url}` };
  return { transport: undefined, reason: 'pct is not on PATH (not a Proxmox VE node) and [proxmox] api_url is not set' };
}

/** USER@REALM!TOKENID=SECRET from $BERTH_PVE_TOKEN, else [proxmox] token, else the token file. Never logged. */
export function readToken(cfg: ProxmoxConfig, env: NodeJS.ProcessEnv): string {
  const fromEnv = env.BERTH_PVE_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  if (cfg.token) return cfg.token.trim();
  if (!cfg.token_file) throw new InvalidConfigError('transport "api" needs an API token: set $BERTH_PVE_TOKEN, [proxmox] token or [proxmox] token_file');
  let text: string;
  try {
    text = readFileSync(cfg.token_file, 'utf8');
  } catch (err) {
    throw new InvalidConfigError(`cannot read [proxmox] token_file ${cfg.token_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if ((statSync(cfg.token_file).mode & 0o077) !== 0) void log('warn', `token file ${cfg.token_file} is readable by group or others; chmod 600 it`, { op: 'config' });
  const token = text.trim();
  if (!token) throw new InvalidConfigError(`[proxmox] token_file ${cfg.token_file} is empty`);
  return token;
}

export function openTransport(cfg: ProxmoxConfig, env: NodeJS.ProcessEnv = process.env): Proxmox {
  const choice = chooseTransport(cfg, env);
  if (choice.transport === undefined) throw new BackendUnavailableError(`backend pve is not usable: ${choice.reason}`);
  const node = cfg.node ?? hostname().split('.')[0]!;
  if (choice.transport === 'pct') return new PctTransport({ node, env });
  let ca: string | undefined;
  if (cfg.ca_file) {
    try {
      ca = readFileSync(cfg.ca_file, 'utf8');
    } catch (err) {
      throw new InvalidConfigError(`cannot read [proxmox] ca_file ${cfg.ca_file}: ${(err as Error).message}`);
    }
  }
  if (cfg.insecure) void log('warn', 'proxmox.insecure = true: the API certificate is not verified', { op: 'config' });
  return new ApiTransport({
    url: cfg.api_url!,
    node,
    token: readToken(cfg, env),
    ca,
    fingerprint: cfg.fingerprint,
    insecure: cfg.insecure,
    taskTimeoutMs: cfg.task_timeout * 1000,
  });
}

export function createPveBackend(cfg: ProxmoxConfig, root: string, mapOciToLxc: MapOciToLxc, proxmox: Proxmox = openTransport(cfg)): PveBackend {
  return new PveBackend({
    proxmox,
    root,
    storage: cfg.storage,
    templateStorage: cfg.template_storage,
    bridge: cfg.bridge,
    unprivileged: cfg.unprivileged,
    vmidRange: parseVmidRange(cfg.vmid_range),
    mapOciToLxc,
  });
}
