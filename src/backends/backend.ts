// What every backend offers. Capabilities are data: the runtime reads them, never instanceof.
import type { ProxmoxConfig } from '../core/config.js';
import type { ParsedSignal } from '../core/signals.js';

export interface BackendCapabilities {
  exec: boolean;
  pause: boolean;
  update: boolean;
  ps: boolean;
  consoleSocket: boolean;
  /** create takes `stdio`: the container's stdin, stdout and stderr as fds the caller opened. */
  stdio?: boolean;
  /**
   * The containers live outside this host's process table (Proxmox): there is no pid file at
   * create, and status and pid come from `status()`, not from a pid berth watches.
   */
  ownsStatus?: boolean;
  /**
   * The backend keeps the container's root filesystem itself (Proxmox: a clone of its own
   * template). A container made from an image gets no local volume: the bundle's rootfs is the
   * image's read-only template, only read as the source of the backend's template.
   */
  ownsRootfs?: boolean;
  /**
   * The highest ociVersion the backend accepts, when it refuses newer ones (crun 1.8: "unknown
   * version specified" above 1.1.x). Its backend config carries this version instead: fields of
   * newer specs are unknown to it and ignored, as any unknown field.
   */
  ociVersionMax?: string;
}

/** What a backend with `ownsStatus` reports for a container. */
export interface BackendStatus {
  status: 'created' | 'running' | 'stopped';
  pid: number | undefined;
  /** The backend's own name for the container (a Proxmox VMID), shown by `list`. */
  ref?: string;
}

/** Host-wide settings a backend needs; never the CLI's options object. */
export interface BackendSettings {
  /** berth's directory in the root (`<root>/@berth`); each backend keeps its own state in a subdirectory of it. */
  root: string;
  debug: boolean;
  systemdCgroup: boolean;
  /** Binary path from the config, if any (for crun-abi: crun's, which it delegates to). */
  binaryPath: string | undefined;
  /** `libcrun_path` from the config, if any. */
  libcrunPath: string | undefined;
  /** crun's and runc's binary paths from the config: detection reports on every backend. */
  crunBinaryPath: string | undefined;
  runcBinaryPath: string | undefined;
  /** The config key crunBinaryPath came from (runtimes.crun-cli.path or runtimes.crun.path), for messages. */
  crunBinaryKey?: string;
  /** `[proxmox]` from the config, for the pve backend. */
  proxmox?: ProxmoxConfig | undefined;
}

export interface CreateRequest {
  id: string;
  /** The user's bundle directory: the bundle in the container's state, hooks and relative paths. */
  bundle: string;
  /**
   * Absolute path of the backend config (runtime/backend-config.ts), the config the backend runs
   * in place of <bundle>/config.json: the user's JSON with root.path absolute, ociVersion as the
   * backend accepts it and linux.cgroupsPath set.
   */
  config: string;
  pidFile: string;
  consoleSocket: string | undefined;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /**
   * The container's stdio as open fds (a shim's FIFOs), handed to its init instead of the
   * caller's own stdio; only for backends whose capabilities say `stdio`.
   */
  stdio?: ContainerStdio;
  /** Set by the runtime when it made the bundle from a cached image (a bundle's annotation alone is no proof). */
  image?: ImageSource;
}

export interface ContainerStdio {
  stdin: number;
  stdout: number;
  stderr: number;
}

/** What the runtime knows of a bundle it made from a cached image. */
export interface ImageSource {
  /** The manifest digest it vouches for: the rootfs is that image's, untouched. */
  digest: string;
  /** The image's declared volumes (absolute paths): directories a backend with ownsRootfs makes. */
  volumes: string[];
}

export interface ExecRequest {
  id: string;
  /** Path of a process.json, or undefined when `args` are given. */
  processFile: string | undefined;
  args: string[];
  detach: boolean;
  pidFile: string | undefined;
  tty: boolean;
  consoleSocket: string | undefined;
  env: string[];
  cwd: string | undefined;
  preserveFds: number;
  /** As CreateRequest's: the process's stdio as open fds (backends whose capabilities say `stdio`). */
  stdio?: ContainerStdio;
}

export interface Backend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** Creates the container; its init pid is in `pidFile` afterwards. */
  create(req: CreateRequest): Promise<void>;
  start(id: string): Promise<void>;
  /** Creates, starts and waits in the foreground; resolves to the container's exit code. */
  runForeground(req: CreateRequest): Promise<number>;
  /**
   * After a detached create: the process the caller must wait on for the container's exit,
   * when that is not the init. Clients (conmon, containerd's shim) learn exits as the subreaper
   * of what `create` leaves behind: lxc's init is liblxc's child, while berth-lxc-start (its
   * monitor, which exits with the init's status) becomes the caller's child when berth exits.
   * The caller's --pid-file names it; berth's record keeps the init. Absent: the init.
   */
  waitablePid?(id: string): number | undefined;
  kill(id: string, signal: ParsedSignal, all: boolean): Promise<void>;
  /** Removes the container; with force, kills it first. A missing container is not an error. */
  delete(id: string, force: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Resolves to the process's exit code (0 once started, for a detached exec). */
  exec(req: ExecRequest): Promise<number>;
  ps(id: string): Promise<number[]>;
  /** `resources` is an OCI LinuxResources JSON document. */
  update(id: string, resources: string): Promise<void>;
  /** One line naming the backend's version and where it lives. */
  version(): Promise<string>;
  /** Status and pid of a container, for backends that declare `ownsStatus`. */
  status?(id: string): Promise<BackendStatus>;
  /**
   * A backend's own graceful stop (pve: shutdown with a timeout, then a hard stop). Without it,
   * `berth stop` signals the container (its stop signal, then KILL) as for any runtime.
   */
  stop?(id: string, timeoutS: number): Promise<void>;
  /** The backend's own `features` JSON, or undefined if it has none. */
  features(): Promise<Record<string, unknown> | undefined>;
}
