// Proxmox through its own tools on the node: `pct` for changes, `pvesh get … --output-format json`
// for every read (never the human `pct list` table), `pvesm` for template files. pct runs each
// task in the foreground and prints its log; a failed task exits non-zero with the error last.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { runTool, type ToolRunner } from '../../core/exec.js';
import { ProxmoxApiError, ProxmoxTaskError } from './pve-errors.js';
import { parseTags, type CloneOptions, type DestroyOptions, type ExecIo, type ExecResult, type Proxmox, type PveConfig, type PveOptions, type PveStatus, type PveVersion, type RawLxcEntry } from './proxmox.js';

export interface PctTransportOptions {
  /** The node's name; default: this host's short name, as Proxmox names its node. */
  node?: string;
  /** Where Proxmox keeps container configs (the node's /etc/pve/lxc). */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  run?: ToolRunner;
}

/** Commands whose output is a task log (they run a worker in the foreground). */
const TASK_COMMANDS = new Set(['create', 'start', 'stop', 'shutdown', 'destroy', 'clone']);

export class PctTransport implements Proxmox {
  readonly transport = 'pct' as const;
  readonly hostLocal = true;
  readonly isRoot = true;
  readonly node: string;
  private readonly configDir: string;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly run: ToolRunner;

  constructor(options: PctTransportOptions = {}) {
    this.node = options.node ?? hostname().split('.')[0]!;
    this.configDir = options.configDir ?? '/etc/pve/lxc';
    this.env = options.env;
    this.run = options.run ?? runTool;
  }

  private async tool(argv: string[]): Promise<string> {
    const r = await this.run(argv, { env: this.env });
    if (r.exitCode === 0) return r.stdout;
    const words = r.stderr.trim() || `exited with ${r.exitCode ?? r.signal}`;
    const cmd = argv.slice(0, 3).join(' ');
    const log = r.stdout.split('\n').filter((l) => l.length > 0);
    if (argv[0] === 'pct' && TASK_COMMANDS.has(argv[1] ?? '') && log.length > 0) {
      throw new ProxmoxTaskError(cmd, words.split('\n').pop()!, [...log, ...words.split('\n')], cmd);
    }
    throw new ProxmoxApiError(`${cmd} failed: ${words}`, undefined);
  }

  private async get<T>(path: string): Promise<T> {
    return JSON.parse(await this.tool(['pvesh', 'get', path, '--output-format', 'json'])) as T;
  }

  private ct(vmid: number, sub = ''): string {
    return `/nodes/${this.node}/lxc/${vmid}${sub}`;
  }

  async version(): Promise<PveVersion> {
    const v = await this.get<{ version: string; release: string }>('/version');
    return { version: String(v.version), release: String(v.release) };
  }

  async nextId(): Promise<number> {
    return Number(await this.get<string | number>('/cluster/nextid'));
  }

  async create(vmid: number, ostemplate: string, options: PveOptions): Promise<void> {
    await this.tool(['pct', 'create', String(vmid), ostemplate, ...flags(options)]);
  }

  async getConfig(vmid: number): Promise<PveConfig> {
    return configFromApi(await this.get<Record<string, unknown>>(this.ct(vmid, '/config')));
  }

  async setConfig(vmid: number, options: PveOptions, remove: string[] = []): Promise<void> {
    // `env` is a NUL-separated list, which no command line can carry: write it as Proxmox
    // itself stores it, as lxc.environment.runtime lines.
    const { env, ...rest } = options;
    const argv = ['pct', 'set', String(vmid), ...flags(rest)];
    if (remove.length) argv.push('--delete', remove.join(','));
    if (argv.length > 3) await this.tool(argv);
    if (env !== undefined) this.rewriteLxc(vmid, 'lxc.environment.runtime', env.split('\0').filter((e) => e.length > 0));
  }

  /** Replaces every `key` line of the config file with `values`. */
  private rewriteLxc(vmid: number, key: string, values: string[]): void {
    const path = join(this.configDir, `${vmid}.conf`);
    const text = readFileSync(path, 'utf8');
    const cut = text.search(/^\[/m);
    const head = (cut >= 0 ? text.slice(0, cut) : text).split('\n').filter((l) => !l.startsWith(`${key}:`)).join('\n');
    const tail = cut >= 0 ? text.slice(cut) : '';
    const lines = values.map((v) => `${key}: ${v}\n`).join('');
    writeFileAtomic(path, `${head}${head.endsWith('\n') || head === '' ? '' : '\n'}${lines}${tail}`, 0o640);
  }

  /** pct has no command for raw keys: they are lines of /etc/pve/lxc/VMID.conf, before any snapshot section. */
  async appendLxc(vmid: number, entries: RawLxcEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const path = join(this.configDir, `${vmid}.conf`);
    const text = readFileSync(path, 'utf8');
    const cut = text.search(/^\[/m);
    const head = cut >= 0 ? text.slice(0, cut) : text;
    const tail = cut >= 0 ? text.slice(cut) : '';
    const lines = entries.map((e) => `${e.key}: ${e.value}\n`).join('');
    writeFileAtomic(path, `${head}${head.endsWith('\n') || head === '' ? '' : '\n'}${lines}${tail}`, 0o640);
  }

  async status(vmid: number): Promise<PveStatus> {
    return statusFromApi(await this.get<Record<string, unknown>>(this.ct(vmid, '/status/current')), vmid);
  }

  async start(vmid: number): Promise<void> {
    await this.tool(['pct', 'start', String(vmid)]);
  }

  async stop(vmid: number): Promise<void> {
    await this.tool(['pct', 'stop', String(vmid)]);
  }

  async shutdown(vmid: number, timeoutS: number): Promise<void> {
    await this.tool(['pct', 'shutdown', String(vmid), '--timeout', String(timeoutS)]);
  }

  async destroy(vmid: number, options: DestroyOptions): Promise<void> {
    const argv = ['pct', 'destroy', String(vmid)];
    if (options.purge) argv.push('--purge', '1');
    if (options.force) argv.push('--force', '1');
    await this.tool(argv);
  }

  async template(vmid: number): Promise<void> {
    await this.tool(['pct', 'template', String(vmid)]);
  }

  async clone(vmid: number, newid: number, options: CloneOptions): Promise<void> {
    const argv = ['pct', 'clone', String(vmid), String(newid)];
    if (options.full) argv.push('--full', '1');
    if (options.hostname) argv.push('--hostname', options.hostname);
    if (options.description) argv.push('--description', options.description);
    if (options.storage) argv.push('--storage', options.storage);
    await this.tool(argv);
  }

  async exec(vmid: number, argv: readonly string[], io: ExecIo): Promise<ExecResult> {
    const r = await this.run(['pct', 'exec', String(vmid), '--', ...argv], { env: this.env, stdio: io.stdio, forwardSignals: io.stdio === 'inherit' });
    if (r.exitCode === 255 && /not running|does not exist/.test(r.stderr)) throw new ProxmoxApiError(`pct exec ${vmid} failed: ${r.stderr.trim()}`, undefined);
    return { exitCode: r.exitCode ?? 128 + 9, stdout: r.stdout, stderr: r.stderr };
  }

  async list(): Promise<PveStatus[]> {
    const rows = await this.get<Array<Record<string, unknown>>>(`/nodes/${this.node}/lxc`);
    return rows.map((r) => statusFromApi(r, Number(r.vmid)));
  }

  async uploadTemplate(storage: string, file: string, name: string): Promise<string> {
    const volid = `${storage}:vztmpl/${name}`;
    const path = (await this.tool(['pvesm', 'path', volid])).trim();
    // Proxmox removes the template directory with its last file (free_image's rmdir), and
    // `pvesm path` names the file whether or not its directory is there.
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(file, path);
    return volid;
  }

  async freeVolume(volid: string): Promise<void> {
    await this.tool(['pvesm', 'free', volid]);
  }
}

/** `--key value` pairs in a stable order. */
function flags(options: PveOptions): string[] {
  return Object.entries(options).flatMap(([k, v]) => [`--${k}`, v]);
}

/** Shared by both transports: the API's config answer (what `pvesh get …/config` prints). */
export function configFromApi(raw: Record<string, unknown>): PveConfig {
  const options: PveOptions = {};
  let lxc: RawLxcEntry[] = [];
  let digest: string | undefined;
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'lxc' && Array.isArray(v)) lxc = v.map((e) => ({ key: String((e as unknown[])[0]), value: String((e as unknown[])[1]) }));
    else if (k === 'digest') digest = String(v);
    else if (v !== null && v !== undefined) options[k] = String(v);
  }
  return { options, lxc, digest };
}

/** Shared by both transports: a status/current or list row. */
export function statusFromApi(raw: Record<string, unknown>, vmid: number): PveStatus {
  const pid = raw.pid === undefined || raw.pid === null ? undefined : Number(raw.pid);
  return {
    vmid,
    status: raw.status === 'running' ? 'running' : 'stopped',
    pid: pid && Number.isInteger(pid) && pid > 0 ? pid : undefined,
    template: raw.template === 1 || raw.template === '1' || raw.template === true,
    name: raw.name === undefined ? undefined : String(raw.name),
    tags: parseTags(raw.tags === undefined ? undefined : String(raw.tags)),
  };
}
