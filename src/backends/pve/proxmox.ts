// The operations the pve backend needs from Proxmox VE, whatever carries them: `pct`/`pvesh` on
// the host (pct-transport.ts) or the REST API from anywhere (api-transport.ts). The backend only
// ever sees this interface.

/** A container's options as Proxmox names them (hostname, memory, net0, mp0, features, …). */
export type PveOptions = Record<string, string>;

/** A raw LXC key appended to the container's config (lxc.init.cmd, lxc.mount.entry, …). */
export interface RawLxcEntry {
  key: string;
  value: string;
}

export interface PveConfig {
  options: PveOptions;
  /** Raw `lxc.*` lines, in order. */
  lxc: RawLxcEntry[];
  /** SHA-1 of the config file, as Proxmox reports it. */
  digest: string | undefined;
}

export interface PveStatus {
  vmid: number;
  status: 'running' | 'stopped';
  /** The host pid of the container's init while it runs. */
  pid: number | undefined;
  template: boolean;
  name: string | undefined;
  tags: string[];
}

export interface PveVersion {
  /** For example "9.1.1". */
  version: string;
  release: string;
}

export interface CloneOptions {
  /** A full copy; otherwise Proxmox makes a linked clone (templates only). */
  full: boolean;
  hostname?: string;
  description?: string;
  /** Target storage (full clones only). */
  storage?: string;
}

export interface DestroyOptions {
  purge: boolean;
  force: boolean;
}

export interface ExecIo {
  /** Hand the command berth's own stdio (an interactive exec), or capture its output. */
  stdio: 'inherit' | 'capture';
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Proxmox {
  readonly transport: 'pct' | 'api';
  /** The node the containers live on. */
  readonly node: string;
  /**
   * Whether berth runs on that node, so that host pids are this machine's and can be signalled
   * directly (always for pct; for the API only when it is reached on loopback).
   */
  readonly hostLocal: boolean;
  /** Whether options that only root@pam may set (bind mounts, raw lxc keys, most features) can be set. */
  readonly isRoot: boolean;

  version(): Promise<PveVersion>;
  /** GET /cluster/nextid: the next free VMID. */
  nextId(): Promise<number>;
  /** Creates a container from an OS template (`STORAGE:vztmpl/FILE`); resolves once its task ends. */
  create(vmid: number, ostemplate: string, options: PveOptions): Promise<void>;
  getConfig(vmid: number): Promise<PveConfig>;
  setConfig(vmid: number, options: PveOptions, remove?: string[]): Promise<void>;
  /** Appends raw `lxc.*` keys to the container's config (root on the host only). */
  appendLxc(vmid: number, entries: RawLxcEntry[]): Promise<void>;
  status(vmid: number): Promise<PveStatus>;
  start(vmid: number): Promise<void>;
  stop(vmid: number): Promise<void>;
  /** Asks the init to shut down; rejects when it has not after `timeoutS` seconds. */
  shutdown(vmid: number, timeoutS: number): Promise<void>;
  destroy(vmid: number, options: DestroyOptions): Promise<void>;
  /** Turns a stopped container into a template. */
  template(vmid: number): Promise<void>;
  clone(vmid: number, newid: number, options: CloneOptions): Promise<void>;
  exec(vmid: number, argv: readonly string[], io: ExecIo): Promise<ExecResult>;
  /** The node's containers (templates included). */
  list(): Promise<PveStatus[]>;
  /** Puts a local tarball into a storage's `vztmpl` content; resolves to its volume id. */
  uploadTemplate(storage: string, file: string, name: string): Promise<string>;
  /** Removes a volume (an uploaded tarball) from a storage. */
  freeVolume(volid: string): Promise<void>;
}

/** Proxmox's option strings for a VMID, e.g. tags are `;`-separated and lower case. */
export function parseTags(tags: string | undefined): string[] {
  return (tags ?? '').split(/[;, ]+/).filter((t) => t.length > 0);
}

/** "9.1.1" ≥ "9.1"? Compares dotted numeric versions. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  const b = min.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
