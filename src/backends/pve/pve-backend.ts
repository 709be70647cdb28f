// OCI containers as Proxmox VE containers: each is a (linked) clone of a template (one per cached
// image digest, or per rootfs content for other bundles), configured from config.json (pve-mapping.ts), managed through one Proxmox interface
// (pct on the node or the REST API; this file never knows which). A failed create removes what
// it made: the clone, the map entry, and a template it made only for this.
import { stateRootIdentity } from '../../core/state-root.js';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { dirname, join, resolve } from 'node:path';
import { BackendError, ContainerExistsError, ContainerNotFoundError, ContainerStateError, InvalidBundleError, UnsupportedError } from '../../core/errors.js';
import { errorFields, log } from '../../core/log.js';
import { IMAGE_DIGEST_ANNOTATION } from '../../core/oci/annotations.js';
import type { RuntimeConfig } from '../../core/oci/runtime-config.js';
import { Revert } from '../../core/revert.js';
import type { ParsedSignal } from '../../core/signals.js';
import type { Backend, BackendCapabilities, BackendStatus, CreateRequest, ExecRequest, ImageSource } from '../backend.js';
import { isLinkedCloneUnavailable, ProxmoxPermissionError } from './pve-errors.js';
import { destroyIfThere, ranTask } from './pve-task-outcome.js';
import { mapOciToPve, type MapOciToLxc, type PveMapping } from './pve-mapping.js';
import { forVmid, PVE_ROOTFS, type HostDevice } from './pve-carry.js';
import { versionAtLeast, type Proxmox, type PveVersion } from './proxmox.js';
import { packRootfs, rootfsTarball, Templates, type TemplateSpec } from './templates.js';
import { VmidAllocator, type VmidRange } from './vmid-allocator.js';
import { VmidMap, type VmidEntry } from './vmid-map.js';

const CAPABILITIES: BackendCapabilities = { exec: true, pause: false, update: false, ps: false, consoleSocket: false, ownsStatus: true, ownsRootfs: true };

export interface PveBackendOptions {
  proxmox: Proxmox;
  /** berth's root: the VMID map and work files live in <root>/pve. */
  root: string;
  storage: string;
  templateStorage: string;
  bridge: string;
  unprivileged: boolean;
  vmidRange: VmidRange;
  mapOciToLxc: MapOciToLxc;
  /** How long `stop` lets the init shut down before stopping it hard (seconds). */
  stopTimeoutS?: number;
}

const IMAGE_DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export type PveOciStatus = 'created' | 'running' | 'stopped';

export interface PveState {
  id: string;
  vmid: number;
  status: PveOciStatus;
  /** The host pid of the container's init while it runs. */
  pid: number | undefined;
}

export interface PveCreated extends PveState {
  template: number;
  /** Whether the root disk is a linked clone of the template (else a full copy). */
  linked: boolean;
  degradations: PveMapping['degradations'];
}

export class PveBackend implements Backend {
  readonly name = 'pve';
  readonly capabilities = CAPABILITIES;
  readonly map: VmidMap;
  private readonly allocator: VmidAllocator;
  private readonly templates: Templates;
  private versionCache: Promise<PveVersion> | undefined;

  constructor(private readonly o: PveBackendOptions) {
    this.map = new VmidMap(o.root);
    this.allocator = new VmidAllocator(o.proxmox, this.map, o.vmidRange);
    this.templates = new Templates(o.proxmox, this.allocator, { storage: o.storage, templateStorage: o.templateStorage }, join(this.map.dir, 'templates'));
  }

  get proxmox(): Proxmox {
    return this.o.proxmox;
  }

  private hostVersion(): Promise<PveVersion> {
    this.versionCache ??= this.o.proxmox.version();
    return this.versionCache;
  }

  private entry(id: string): VmidEntry {
    const e = this.map.read().containers[id];
    if (!e) throw new ContainerNotFoundError(id);
    return e;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Creates the container from a bundle; it is OCI "created" (a stopped Proxmox container).
   * `image`: what the runtime vouches for when it made the bundle from a cached image.
   */
  async createFromBundle(id: string, bundle: string, image?: ImageSource, configFile = join(bundle, 'config.json')): Promise<PveCreated> {
    const spec = readSpec(configFile);
    const rootfs = resolve(bundle, spec.root.path);
    if (this.map.read().containers[id]) throw new ContainerExistsError(id);
    const version = await this.hostVersion();
    // On the node (pct), berth sees what the node has: the kinds of masked paths (in the bundle's
    // rootfs, which becomes the container's) and its device nodes; the seccomp policy file is
    // written into berth's state root there.
    const onNode = this.o.proxmox.isRoot && this.o.proxmox.hostLocal;
    const seccompProfile = this.seccompFile(id);
    const mapping = mapOciToPve({
      id,
      spec,
      bridge: this.o.bridge,
      unprivileged: this.o.unprivileged,
      hasOciOptions: versionAtLeast(version.version, '9.1'),
      callerIsRoot: this.o.proxmox.isRoot,
      mapOciToLxc: this.o.mapOciToLxc,
      rootId: stateRootIdentity(this.o.root).id,
      hasDevOptions: versionAtLeast(version.version, '8.1'),
      seccompProfile,
      ...(onNode ? { pathKind: (p: string) => pathKind(p.startsWith(`${PVE_ROOTFS}/`) ? join(rootfs, p.slice(PVE_ROOTFS.length)) : p), hostDevice } : {}),
    });
    if (!this.o.proxmox.isRoot && mapping.rootOnly.length > 0) {
      throw new ProxmoxPermissionError(
        `container "${id}" needs settings only root@pam may make (${mapping.rootOnly.join(', ')}); an API token cannot: use transport = "pct" on the node${versionAtLeast(version.version, '9.1') ? '' : ` (Proxmox VE ${version.version} has no entrypoint/env options, so the process needs raw lxc keys)`}`,
      );
    }
    for (const d of mapping.degradations) await log('warn', `${d.field}: ${d.reason}`, { op: 'create', id, backend: this.name });

    const revert = new Revert();
    const work = join(this.map.dir, 'tmp');
    let tarDir: string | undefined;
    try {
      const digest = await imageDigest(id, spec, image);
      let template: number;
      if (digest) {
        // Keyed by the image: a template that exists is cloned without reading the rootfs.
        template = await this.templates.ensure({ kind: 'image', key: digest, unprivileged: mapping.unprivileged }, async () => {
          const file = await packRootfs(rootfs, work, image?.volumes ?? []);
          tarDir = dirname(file);
          return file;
        });
      } else {
        const tar = await rootfsTarball(rootfs, work);
        tarDir = dirname(tar.file);
        const key: TemplateSpec = { kind: 'rootfs', key: tar.key, unprivileged: mapping.unprivileged };
        template = await this.templates.ensure(key, async () => tar.file);
      }
      let linked = true;
      const vmid = await this.allocator.create(id, 'containers', revert, async (newid) => {
        try {
          linked = await this.cloneTemplate(template, newid, mapping);
        } catch (err) {
          // A clone task that failed or timed out may have left the container behind.
          if (ranTask(err)) revert.add(`CT ${newid}`, () => destroyIfThere(this.o.proxmox, newid));
          throw err;
        }
        revert.add(`CT ${newid}`, () => this.o.proxmox.destroy(newid, { purge: true, force: true }));
      });
      await this.o.proxmox.setConfig(vmid, mapping.options);
      if (mapping.seccompPolicy !== undefined) {
        mkdirSync(dirname(seccompProfile), { recursive: true });
        writeFileAtomic(seccompProfile, mapping.seccompPolicy, 0o600);
        revert.add(`seccomp policy ${seccompProfile}`, () => rmSync(seccompProfile, { force: true }));
      }
      await this.o.proxmox.appendLxc(vmid, forVmid(mapping.lxc, vmid));
      revert.commit();
      return { id, vmid, status: 'created', pid: undefined, template, linked, degradations: mapping.degradations };
    } catch (err) {
      for (const f of await revert.run()) await log('warn', `cleanup of ${f.what} failed`, { op: 'create', id, ...errorFields(f.error) });
      throw err;
    } finally {
      if (tarDir) rmSync(tarDir, { recursive: true, force: true });
    }
  }

  /** A linked clone where the storage can make one, else a full copy. Resolves to whether it is linked. */
  private async cloneTemplate(template: number, newid: number, mapping: PveMapping): Promise<boolean> {
    const common = { hostname: mapping.options.hostname!, description: mapping.options.description! };
    try {
      await this.o.proxmox.clone(template, newid, { ...common, full: false });
      return true;
    } catch (err) {
      if (!isLinkedCloneUnavailable(err)) throw err;
      await log('info', `storage ${this.o.storage} cannot make linked clones; making a full copy of template ${template}`, { op: 'create', vmid: newid });
      await this.o.proxmox.clone(template, newid, { ...common, full: true, storage: this.o.storage });
      return false;
    }
  }

  async start(id: string): Promise<void> {
    const e = this.entry(id);
    const st = await this.o.proxmox.status(e.vmid);
    if (st.status === 'running' || e.started) throw new ContainerStateError(`cannot start container "${id}": it is ${st.status === 'running' ? 'running' : 'stopped'}; only a created container can be started`);
    await this.o.proxmox.start(e.vmid);
    await this.setStarted(id, e.vmid);
  }

  async state(id: string): Promise<PveState> {
    const e = this.entry(id);
    const st = await this.o.proxmox.status(e.vmid);
    const status: PveOciStatus = st.status === 'running' ? 'running' : e.started ? 'stopped' : 'created';
    return { id, vmid: e.vmid, status, pid: st.status === 'running' ? st.pid : undefined };
  }

  async list(): Promise<PveState[]> {
    const entries = Object.entries(this.map.read().containers);
    const byVmid = new Map((await this.o.proxmox.list()).map((c) => [c.vmid, c]));
    return entries.map(([id, e]) => {
      const ct = byVmid.get(e.vmid);
      const running = ct?.status === 'running';
      return { id, vmid: e.vmid, status: running ? 'running' : e.started || !ct ? 'stopped' : 'created', pid: running ? ct.pid : undefined };
    });
  }

  /** Signals the init from the host; KILL is a Proxmox stop. */
  async kill(id: string, signal: ParsedSignal): Promise<void> {
    const e = this.entry(id);
    const st = await this.o.proxmox.status(e.vmid);
    if (st.status !== 'running') {
      // A created container has no process yet: KILL or TERM ends it before it ran, as for runc.
      if (!e.started) return this.setStarted(id, e.vmid);
      throw new ContainerStateError(`cannot kill container "${id}": it is stopped (container not running)`);
    }
    if (signal.name === 'KILL') return this.o.proxmox.stop(e.vmid);
    if (!this.o.proxmox.hostLocal) {
      if (signal.name === 'TERM') return this.o.proxmox.shutdown(e.vmid, this.o.stopTimeoutS ?? 10);
      throw new UnsupportedError(`cannot send SIG${signal.name} to container "${id}": berth is not on node ${this.o.proxmox.node}; only TERM (shutdown) and KILL (stop) go through the API`);
    }
    if (st.pid === undefined) throw new BackendError(`Proxmox reports CT ${e.vmid} running but no pid for its init`);
    try {
      process.kill(st.pid, signal.number);
    } catch (err) {
      throw new BackendError(`cannot signal the init (pid ${st.pid}) of CT ${e.vmid}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Shutdown with a timeout, then a hard stop. */
  async stop(id: string, timeoutS = this.o.stopTimeoutS ?? 10): Promise<void> {
    const e = this.entry(id);
    const st = await this.o.proxmox.status(e.vmid);
    if (st.status === 'running') {
      try {
        await this.o.proxmox.shutdown(e.vmid, timeoutS);
      } catch (err) {
        await log('info', `CT ${e.vmid} did not shut down within ${timeoutS} s; stopping it`, { op: 'stop', id, vmid: e.vmid, ...errorFields(err) });
        if ((await this.o.proxmox.status(e.vmid)).status === 'running') await this.o.proxmox.stop(e.vmid);
      }
    }
    if (!e.started) await this.setStarted(id, e.vmid);
  }

  /** Destroys (purge) the Proxmox container; with force, a running one too. A missing one is not an error. */
  async delete(id: string, force: boolean): Promise<void> {
    const e = this.map.read().containers[id];
    if (!e) return;
    let exists = true;
    try {
      const st = await this.o.proxmox.status(e.vmid);
      if (st.status === 'running' && !force) throw new ContainerStateError(`cannot delete container "${id}": it is running; stop it first or use delete --force`);
    } catch (err) {
      if (!/does not exist/.test((err as Error).message)) throw err;
      exists = false; // removed behind berth's back: only the map entry is left
    }
    if (exists) await this.o.proxmox.destroy(e.vmid, { purge: true, force });
    rmSync(this.seccompFile(id), { force: true });
    await this.allocator.release(id, 'containers', e.vmid);
  }

  async execArgv(id: string, argv: readonly string[], stdio: 'inherit' | 'capture'): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const e = this.entry(id);
    if (argv.length === 0) throw new InvalidBundleError('exec needs a command');
    return this.o.proxmox.exec(e.vmid, argv, { stdio });
  }

  /** The node path of a container's seccomp policy (lxc.seccomp.profile): in berth's state root. */
  private seccompFile(id: string): string {
    return join(this.map.dir, 'seccomp', `${encodeURIComponent(id)}.policy`);
  }

  private async setStarted(id: string, vmid: number): Promise<void> {
    await this.map.update((d) => {
      const e = d.containers[id];
      if (e?.vmid === vmid) e.started = true;
    });
  }

  // ---- the Backend interface (the runtime's view) -------------------------------------------

  async create(req: CreateRequest): Promise<void> {
    await this.createFromBundle(req.id, req.bundle, req.image, req.config);
  }

  async status(id: string): Promise<BackendStatus> {
    const e = this.map.read().containers[id];
    if (!e) return { status: 'stopped', pid: undefined }; // its Proxmox container is gone
    try {
      const s = await this.state(id);
      return { status: s.status, pid: s.pid, ref: String(s.vmid) };
    } catch (err) {
      if (/does not exist/.test((err as Error).message)) return { status: 'stopped', pid: undefined };
      throw err;
    }
  }

  async runForeground(): Promise<number> {
    throw new UnsupportedError('backend pve cannot run a container in the foreground: use create and start');
  }

  async pause(): Promise<void> {
    throw new UnsupportedError('backend pve cannot pause containers');
  }

  async resume(): Promise<void> {
    throw new UnsupportedError('backend pve cannot resume containers');
  }

  async exec(req: ExecRequest): Promise<number> {
    let argv = req.args;
    if (req.processFile) {
      const p = JSON.parse(readFileSync(req.processFile, 'utf8')) as { args?: string[] };
      argv = p.args ?? [];
    }
    if (req.env.length || req.cwd) throw new UnsupportedError('backend pve: exec with --env or --cwd is not supported by pct exec');
    return (await this.execArgv(req.id, argv, req.tty || !req.detach ? 'inherit' : 'capture')).exitCode;
  }

  async ps(): Promise<number[]> {
    throw new UnsupportedError('backend pve cannot list container processes');
  }

  async update(): Promise<void> {
    throw new UnsupportedError('backend pve cannot update resources yet');
  }

  async version(): Promise<string> {
    const v = await this.hostVersion();
    return `pve: Proxmox VE ${v.version} on node ${this.o.proxmox.node} (transport ${this.o.proxmox.transport})`;
  }

  async features(): Promise<Record<string, unknown> | undefined> {
    return undefined;
  }
}

function pathKind(p: string): 'dir' | 'file' | undefined {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** The device node at a path of this host (the node, for pct). */
function hostDevice(p: string): HostDevice | undefined {
  try {
    const st = statSync(p);
    const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : 'other';
    // Linux's dev_t encoding (glibc's major()/minor()).
    const rdev = BigInt(st.rdev);
    const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    return { type, major, minor };
  } catch {
    return undefined;
  }
}

/**
 * The image digest to key the template by: the bundle's annotation, used only when the runtime
 * vouches for it (it made the bundle from that cached image). A hand-made bundle carrying the
 * annotation over other content must not be able to make or claim an image's template.
 */
async function imageDigest(id: string, spec: RuntimeConfig, image: ImageSource | undefined): Promise<string | undefined> {
  const annotated = spec.annotations?.[IMAGE_DIGEST_ANNOTATION];
  if (annotated === undefined) return undefined;
  if (image?.digest === annotated && IMAGE_DIGEST.test(annotated)) return annotated;
  await log('info', `container "${id}": annotation ${IMAGE_DIGEST_ANNOTATION} ${annotated} is not backed by berth's image cache${image ? ` (the runtime made it from ${image.digest})` : ''}; its template is keyed by its rootfs`, { op: 'create', id, backend: 'pve' });
  return undefined;
}

/** The config (the runtime's backend config), checked for what the mapping needs (the runtime validated the rest with zod). */
function readSpec(file: string): RuntimeConfig {
  let spec: RuntimeConfig;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8')) as RuntimeConfig;
  } catch (err) {
    throw new InvalidBundleError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!spec?.process?.args?.length) throw new InvalidBundleError(`${file}: process.args must name the program to run`);
  if (!spec.root?.path) throw new InvalidBundleError(`${file}: root.path is required`);
  return spec;
}
