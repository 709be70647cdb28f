// A DOUBLE of a Proxmox VE node, for tests only: there is no Proxmox host here. One state model
// behind the `pct`/`pvesh`/`pvesm` double (cli.ts) and the HTTPS API double (api-server.ts).
//
// Faithful to Proxmox's documented behaviour and its sources (pve-container's API2/LXC.pm and
// PVE::LXC): container configs are real files in Proxmox's `key: value` format under
// <state>/etc/pve/lxc/VMID.conf (raw `lxc.*` keys included), the state machine (stopped/running,
// templates cannot start, linked clones only of templates on storages that can clone), its error
// messages ("CT 101 already exists on node 'pve'", "you can't start a CT if it's a template",
// "Only root can pass arbitrary filesystem paths.", "Permission check failed"), and task UPIDs.
// A running container's "init" is a real harmless process (sleep), so a host-pid kill really
// signals something. Tests steer failures through `faults` in state.json.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readProcStat } from '../../../src/core/proc.js';

export interface StorageDef {
  type: 'zfspool' | 'dir' | 'lvmthin';
  content: string[];
}

export interface Faults {
  /** The next task of this type fails with `message`, after writing `log`. */
  failTask?: { type: string; message: string; log: string[] };
  /** Tasks of these types stay `running` forever (the API double): for client timeouts. */
  hangTasks?: string[];
  /** The next create or clone finds its VMID taken by someone else (a race with another client). */
  stealNextCreate?: boolean;
  /** The init ignores SIGPWR/SIGTERM, so a shutdown times out and a stop is needed. */
  initIgnoresTerm?: boolean;
}

export interface DoubleState {
  node: string;
  version: string;
  release: string;
  storages: Record<string, StorageDef>;
  /** Volumes of rootdir storages: volid → base volume (for linked clones). */
  volumes: Record<string, { base?: string }>;
  running: Record<string, { pid: number; start: number }>;
  /** API tokens: "user@realm!id" → secret and what it may do. */
  tokens: Record<string, { secret: string; privileges: 'all' | 'audit' }>;
  faults: Faults;
  /** Every vztmpl file name handed out for an upload, in order (tests count tarballs with it). */
  uploads?: string[];
}

/** An error as Proxmox raises it: HTTP status, message, and per-parameter errors for 400. */
export class PveFault extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

export type TaskOutcome = { ok: true } | { ok: false; error: string };

/** What an operation hands back: a task (its log and outcome, now or when polled). */
export interface TaskPlan {
  type: string;
  id: string;
  log: string[];
  /** Polled until it settles; each call may append to `log`. */
  poll: () => TaskOutcome | 'running';
}

export interface Caller {
  /** "root@pam" for pct on the host; "user@realm!token" over the API. */
  user: string;
  privileges: 'all' | 'audit';
}

export const ROOT_CALLER: Caller = { user: 'root@pam', privileges: 'all' };

const CT_OPTIONS = new Set([
  'arch', 'cmode', 'console', 'cores', 'cpulimit', 'cpuunits', 'debug', 'description', 'features', 'hookscript',
  'hostname', 'lock', 'memory', 'nameserver', 'onboot', 'ostype', 'protection', 'rootfs', 'searchdomain',
  'startup', 'swap', 'tags', 'template', 'timezone', 'tty', 'unprivileged',
]);
const CT_OPTIONS_91 = new Set(['entrypoint', 'env']);
const CREATE_ONLY = new Set(['ostemplate', 'storage', 'password', 'pool', 'force', 'restore', 'unique', 'start', 'ssh-public-keys', 'ignore-unpack-errors', 'bwlimit']);
const INDEXED = /^(mp|net|dev|unused)\d+$/;

/**
 * check_ct_modify_config_perm (pve-container src/PVE/LXC.pm) on `features`: a new container (or
 * one without features) may get exactly `nesting` set; an existing one may change nesting only.
 */
function featuresChangeBeyondNesting(old: string | undefined, next: string): boolean {
  const parse = (v: string): Map<string, string> => new Map(v.split(',').filter(Boolean).map((f) => [f.split('=')[0]!, f.split('=')[1] ?? '']));
  const now = parse(next);
  if (old === undefined || old === '') return !(now.size === 1 && now.has('nesting') && now.get('nesting') !== '0') && now.size > 0;
  const before = parse(old);
  for (const k of new Set([...before.keys(), ...now.keys()])) if (k !== 'nesting' && (before.get(k) ?? '') !== (now.get(k) ?? '')) return true;
  return false;
}

export function defaultState(node = 'pve'): DoubleState {
  return {
    node,
    version: '9.1.1',
    release: '9.1',
    storages: {
      local: { type: 'dir', content: ['vztmpl', 'iso', 'backup', 'rootdir'] },
      'local-zfs': { type: 'zfspool', content: ['rootdir', 'images'] },
    },
    volumes: {},
    running: {},
    tokens: {},
    faults: {},
  };
}

export class PveModel {
  constructor(readonly dir: string) {}

  // ---- state on disk ------------------------------------------------------------------------

  static init(dir: string, state: DoubleState): PveModel {
    mkdirSync(join(dir, 'etc/pve/lxc'), { recursive: true });
    const m = new PveModel(dir);
    m.save(state);
    for (const id of Object.keys(state.storages)) mkdirSync(m.templateDir(id), { recursive: true });
    return m;
  }

  load(): DoubleState {
    return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as DoubleState;
  }

  save(state: DoubleState): void {
    const tmp = join(this.dir, `.state.json.${process.pid}`);
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, join(this.dir, 'state.json'));
  }

  /** Runs `fn` with the state locked (pct processes and the API double may overlap). */
  locked<T>(fn: (s: DoubleState) => T): T {
    const lock = join(this.dir, '.lock');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`double state ${this.dir} stays locked`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    try {
      const s = this.load();
      try {
        return fn(s);
      } finally {
        // Like Proxmox, a failure does not roll back what happened before it (a consumed fault).
        this.save(s);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }

  confPath(vmid: number): string {
    return join(this.dir, 'etc/pve/lxc', `${vmid}.conf`);
  }

  /** Where a storage keeps `vztmpl` files (as `/var/lib/vz/template/cache` for `local`). */
  templateDir(storage: string): string {
    return join(this.dir, 'storage', storage, 'template/cache');
  }

  vmids(): number[] {
    return readdirSync(join(this.dir, 'etc/pve/lxc'))
      .map((f) => /^(\d+)\.conf$/.exec(f)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  readConf(vmid: number): Conf {
    const path = this.confPath(vmid);
    if (!existsSync(path)) throw new PveFault(500, `Configuration file 'nodes/${this.load().node}/lxc/${vmid}.conf' does not exist`);
    return parseConf(readFileSync(path, 'utf8'));
  }

  writeConf(vmid: number, conf: Conf): void {
    // PVE 9.1 keeps its `env` option as lxc.environment.runtime lines.
    if (conf.options.env !== undefined) {
      conf.lxc = conf.lxc.filter(([k]) => k !== 'lxc.environment.runtime');
      for (const e of conf.options.env.split('\0')) if (e) conf.lxc.push(['lxc.environment.runtime', e]);
      delete conf.options.env;
    }
    writeFileSync(this.confPath(vmid), printConf(conf));
  }

  // ---- reads --------------------------------------------------------------------------------

  version(): { version: string; release: string; repoid: string } {
    const s = this.load();
    return { version: s.version, release: s.release, repoid: 'd0ub1e00' };
  }

  nextId(): string {
    const used = new Set(this.vmids());
    let id = 100;
    while (used.has(id)) id++;
    return String(id); // Proxmox answers a string
  }

  status(vmid: number): Record<string, unknown> {
    const conf = this.readConf(vmid);
    const s = this.load();
    const pid = this.livePid(s, vmid);
    const out: Record<string, unknown> = {
      vmid,
      status: pid ? 'running' : 'stopped',
      name: conf.options.hostname ?? `CT${vmid}`,
      maxmem: Number(conf.options.memory ?? 512) * 1024 * 1024,
      maxswap: Number(conf.options.swap ?? 0) * 1024 * 1024,
      cpus: Number(conf.options.cores ?? 2),
      uptime: 0,
      type: 'lxc',
    };
    if (pid) out.pid = pid;
    if (conf.options.template === '1') out.template = 1;
    if (conf.options.tags) out.tags = conf.options.tags;
    if (conf.options.lock) out.lock = conf.options.lock;
    return out;
  }

  list(): Record<string, unknown>[] {
    return this.vmids().map((v) => this.status(v));
  }

  config(vmid: number): Record<string, unknown> {
    const conf = this.readConf(vmid);
    const out: Record<string, unknown> = { ...conf.options, digest: createHash('sha1').update(readFileSync(this.confPath(vmid))).digest('hex') };
    if (conf.description !== undefined) out.description = conf.description;
    const env = conf.lxc.filter(([k]) => k === 'lxc.environment.runtime').map(([, v]) => v);
    if (env.length) out.env = env.join('\0');
    const lxc = conf.lxc.filter(([k]) => k !== 'lxc.environment.runtime');
    if (lxc.length) out.lxc = lxc.map(([k, v]) => [k, v]);
    return out;
  }

  private livePid(s: DoubleState, vmid: number): number | undefined {
    const r = s.running[String(vmid)];
    if (!r) return undefined;
    const stat = readProcStat(r.pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X' || stat.startTime !== r.start) return undefined;
    return r.pid;
  }

  // ---- writes -------------------------------------------------------------------------------

  create(caller: Caller, vmid: number, params: Record<string, string>): TaskPlan {
    return this.locked((s) => {
      assertVmid(vmid);
      this.checkParams(s, params, true);
      if (existsSync(this.confPath(vmid)) || s.faults.stealNextCreate) {
        if (s.faults.stealNextCreate) {
          delete s.faults.stealNextCreate;
          this.writeConf(vmid, { options: { arch: 'amd64', hostname: 'someone-else', memory: '512', ostype: 'debian' }, lxc: [] });
        }
        throw new PveFault(500, `CT ${vmid} already exists on node '${s.node}'`);
      }
      assertAllowed(caller, `/vms/${vmid}`, 'VM.Allocate');
      const ostemplate = params.ostemplate;
      if (!ostemplate) throw new PveFault(400, 'Parameter verification failed.', { ostemplate: 'property is missing and it is not optional' });
      const tpl = this.vztmplPath(s, ostemplate);
      const [rootStorage, size] = (params.rootfs ?? `${params.storage ?? 'local'}:4`).split(':') as [string, string];
      this.checkRootdirStorage(s, rootStorage);
      this.checkRootOnly(caller, params, undefined);
      if (!existsSync(tpl)) throw new PveFault(500, `unable to create CT ${vmid} - volume '${ostemplate}' does not exist`);

      const volid = this.newVolume(s, rootStorage, vmid, undefined);
      const options: Record<string, string> = { arch: 'amd64', ostype: params.ostype ?? 'unmanaged' };
      for (const [k, v] of Object.entries(params)) if (!CREATE_ONLY.has(k) && k !== 'rootfs' && k !== 'description') options[k] = v;
      options.rootfs = `${volid},size=${size}G`;
      options.hostname ??= `CT${vmid}`;
      options.memory ??= '512';
      options.swap ??= '512';
      this.writeConf(vmid, { options, lxc: [], description: params.description });
      const log = [`extracting archive '${tpl}'`, `Total bytes read: ${statSync(tpl).size}`, 'Detected container architecture: amd64'];
      return this.finish(s, 'vzcreate', String(vmid), log, () => {
        rmSync(this.confPath(vmid), { force: true });
        delete s.volumes[volid];
      }, `unable to create CT ${vmid} - `);
    });
  }

  setConfig(caller: Caller, vmid: number, params: Record<string, string>): void {
    this.locked((s) => {
      const conf = this.readConf(vmid);
      const remove = (params.delete ?? '').split(/[,;\s]+/).filter(Boolean);
      const rest = { ...params };
      delete rest.delete;
      delete rest.digest;
      this.checkParams(s, rest, false);
      assertAllowed(caller, `/vms/${vmid}`, 'VM.Config.Options');
      if ('unprivileged' in rest) throw new PveFault(500, "unable to modify read-only option: 'unprivileged'");
      this.checkRootOnly(caller, rest, conf);
      if (conf.options.template === '1' && Object.keys(rest).some((k) => k === 'rootfs' || INDEXED.test(k))) {
        throw new PveFault(500, 'unable to modify the disks of a template');
      }
      for (const k of remove) delete conf.options[k];
      for (const [k, v] of Object.entries(rest)) {
        if (k === 'description') conf.description = v;
        else conf.options[k] = v;
      }
      this.writeConf(vmid, conf);
    });
  }

  start(_caller: Caller, vmid: number): TaskPlan {
    return this.locked((s) => {
      const conf = this.readConf(vmid);
      assertAllowed(_caller, `/vms/${vmid}`, 'VM.PowerMgmt');
      if (this.livePid(s, vmid)) throw new PveFault(500, `CT ${vmid} already running`);
      const log = [`starting CT ${vmid}`];
      if (conf.options.template === '1') return settled('vzstart', vmid, log, "you can't start a CT if it's a template");
      const failed = takeFailure(s, 'vzstart', log);
      if (failed) return settled('vzstart', vmid, log, failed);
      const script = s.faults.initIgnoresTerm ? 'trap "" PWR TERM; while :; do sleep 1; done' : 'exec sleep 100000';
      const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
      child.unref();
      const pid = child.pid!;
      let start: number | undefined;
      for (let i = 0; i < 200 && start === undefined; i++) {
        start = readProcStat(pid)?.startTime;
        if (start === undefined) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      }
      s.running[String(vmid)] = { pid, start: start ?? 0 };
      return settled('vzstart', vmid, log, undefined);
    });
  }

  stop(caller: Caller, vmid: number): TaskPlan {
    return this.locked((s) => {
      this.readConf(vmid);
      assertAllowed(caller, `/vms/${vmid}`, 'VM.PowerMgmt');
      const pid = this.livePid(s, vmid);
      if (!pid) throw new PveFault(500, `CT ${vmid} not running`);
      const log = [`stopping CT ${vmid}`];
      const failed = takeFailure(s, 'vzstop', log);
      if (failed) return settled('vzstop', vmid, log, failed);
      killGroup(pid, 'SIGKILL');
      delete s.running[String(vmid)];
      return settled('vzstop', vmid, log, undefined);
    });
  }

  shutdown(caller: Caller, vmid: number, timeoutS: number, forceStop: boolean): TaskPlan {
    const { pid, start } = this.locked((s) => {
      this.readConf(vmid);
      assertAllowed(caller, `/vms/${vmid}`, 'VM.PowerMgmt');
      const live = this.livePid(s, vmid);
      if (!live) throw new PveFault(500, `CT ${vmid} not running`);
      // lxc-stop asks the init to halt with SIGPWR (lxc.signal.halt).
      killGroup(live, 'SIGPWR');
      return { pid: live, start: s.running[String(vmid)]!.start };
    });
    const deadline = Date.now() + timeoutS * 1000;
    const log = [`shutting down CT ${vmid}`];
    const gone = (): boolean => {
      const st = readProcStat(pid);
      return !st || st.state === 'Z' || st.state === 'X' || st.startTime !== start;
    };
    return {
      type: 'vzshutdown',
      id: String(vmid),
      log,
      poll: () => {
        if (gone()) {
          this.locked((s) => delete s.running[String(vmid)]);
          return { ok: true };
        }
        if (Date.now() < deadline) return 'running';
        if (forceStop) {
          killGroup(pid, 'SIGKILL');
          this.locked((s) => delete s.running[String(vmid)]);
          log.push('shutdown timeout - forcing stop');
          return { ok: true };
        }
        return { ok: false, error: `shutdown of CT ${vmid} timed out after ${timeoutS} seconds` };
      },
    };
  }

  destroy(caller: Caller, vmid: number, purge: boolean, force: boolean): TaskPlan {
    return this.locked((s) => {
      const conf = this.readConf(vmid);
      assertAllowed(caller, `/vms/${vmid}`, 'VM.Allocate');
      const pid = this.livePid(s, vmid);
      if (pid && !force) throw new PveFault(500, `CT ${vmid} is running - destroy failed`);
      const log: string[] = [];
      const failed = takeFailure(s, 'vzdestroy', log);
      if (failed) return settled('vzdestroy', vmid, log, failed);
      const vols = volumesOf(conf);
      for (const v of vols) {
        const child = Object.entries(s.volumes).find(([, info]) => info.base === v)?.[0];
        if (child) return settled('vzdestroy', vmid, log, `base volume '${v}' is still in use by linked cloned volume '${child}'`);
      }
      if (pid) {
        killGroup(pid, 'SIGKILL');
        delete s.running[String(vmid)];
      }
      for (const v of vols) {
        delete s.volumes[v];
        log.push(`Removing volume '${v}'`);
      }
      rmSync(this.confPath(vmid), { force: true });
      if (purge) log.push(`purging CT ${vmid} from related configurations..`);
      return settled('vzdestroy', vmid, log, undefined);
    });
  }

  /** POST …/template: Proxmox answers null and converts in the background; here at once. */
  template(caller: Caller, vmid: number): void {
    this.locked((s) => {
      const conf = this.readConf(vmid);
      assertAllowed(caller, `/vms/${vmid}`, 'VM.Allocate');
      if (conf.options.template === '1') throw new PveFault(500, "you can't convert a template to a template");
      if (this.livePid(s, vmid)) throw new PveFault(500, "you can't convert a CT to template if the CT is running");
      const rootfs = conf.options.rootfs;
      if (rootfs) {
        const [vol, ...rest] = rootfs.split(',');
        const base = vol!.replace(/\b(subvol|vm)-(\d+)-disk-/, 'basevol-$2-disk-');
        delete s.volumes[vol!];
        s.volumes[base] = {};
        conf.options.rootfs = [base, ...rest].join(',');
      }
      conf.options.template = '1';
      this.writeConf(vmid, conf);
    });
  }

  clone(caller: Caller, vmid: number, params: Record<string, string>): TaskPlan {
    return this.locked((s) => {
      const newid = Number(params.newid);
      assertVmid(newid);
      for (const k of Object.keys(params)) {
        if (!['newid', 'full', 'hostname', 'description', 'storage', 'pool', 'snapname', 'target', 'bwlimit'].includes(k)) {
          throw new PveFault(400, 'Parameter verification failed.', { [k]: 'property is not defined in schema and the schema does not allow additional properties' });
        }
      }
      const src = this.readConf(vmid);
      assertAllowed(caller, `/vms/${vmid}`, 'VM.Clone');
      const isTemplate = src.options.template === '1';
      const full = params.full === undefined ? !isTemplate : params.full === '1';
      if (params.storage !== undefined && !full) throw new PveFault(500, "parameter 'storage' not allowed for linked clones");
      if (params.storage !== undefined) this.checkRootdirStorage(s, params.storage);
      if (s.faults.stealNextCreate) {
        delete s.faults.stealNextCreate;
        this.writeConf(newid, { options: { arch: 'amd64', hostname: 'someone-else', memory: '512', ostype: 'debian' }, lxc: [] });
      }
      if (existsSync(this.confPath(newid))) throw new PveFault(500, `unable to create CT ${newid}: config file already exists`);
      const running = this.livePid(s, vmid) !== undefined;
      const rootVol = src.options.rootfs?.split(',')[0];
      if (rootVol) {
        const storage = rootVol.split(':')[0]!;
        if (full && running) throw new PveFault(500, 'Cannot do full clones on a running container without snapshots');
        if (!full && !(isTemplate && ['zfspool', 'lvmthin'].includes(s.storages[storage]?.type ?? ''))) {
          throw new PveFault(500, `Linked clone feature for '${rootVol}' is not available`);
        }
      }
      const log: string[] = [];
      const failed = takeFailure(s, 'vzclone', log);
      if (failed) return settled('vzclone', vmid, log, `clone failed: ${failed}`);
      const options = { ...src.options };
      delete options.template;
      if (rootVol) {
        const rest = src.options.rootfs!.split(',').slice(1);
        const storage = full ? (params.storage ?? rootVol.split(':')[0]!) : rootVol.split(':')[0]!;
        const vol = this.newVolume(s, storage, newid, full ? undefined : rootVol);
        log.push(full ? `create full clone of mountpoint rootfs (${rootVol})` : `create linked clone of mount point rootfs (${rootVol})`);
        options.rootfs = [vol, ...rest].join(',');
      }
      if (params.hostname) options.hostname = params.hostname;
      this.writeConf(newid, { options, lxc: [...src.lxc], description: params.description ?? src.description });
      return settled('vzclone', vmid, log, undefined);
    });
  }

  /** Runs a command "in" the container: on the host, which is all a double can do. */
  execTarget(vmid: number): void {
    this.readConf(vmid);
    if (!this.livePid(this.load(), vmid)) throw new PveFault(500, `CT ${vmid} not running`);
  }

  /** Registers an uploaded (or copied) vztmpl file; resolves to its volume id. */
  uploadTarget(caller: Caller, storage: string, filename: string): string {
    const s = this.load();
    const def = s.storages[storage];
    if (!def) throw new PveFault(500, `storage '${storage}' does not exist`);
    assertAllowed(caller, `/storage/${storage}`, 'Datastore.AllocateTemplate');
    if (!def.content.includes('vztmpl')) throw new PveFault(400, 'Parameter verification failed.', { content: `storage '${storage}' does not support 'vztmpl' content` });
    if (!/^[\w.-]+\.tar(\.(gz|xz|zst))?$/.test(filename)) throw new PveFault(400, 'Parameter verification failed.', { filename: `wrong file extension` });
    this.locked((st) => (st.uploads = [...(st.uploads ?? []), filename]));
    return join(this.templateDir(storage), filename);
  }

  /** `pvesm path` for a vztmpl volume. */
  vztmplPath(s: DoubleState, volid: string): string {
    const m = /^([\w.-]+):vztmpl\/([^/]+)$/.exec(volid);
    if (!m) throw new PveFault(400, 'Parameter verification failed.', { ostemplate: `unable to parse volume ID '${volid}'` });
    if (!s.storages[m[1]!]) throw new PveFault(500, `storage '${m[1]}' does not exist`);
    return join(this.templateDir(m[1]!), m[2]!);
  }

  freeVolume(caller: Caller, volid: string): void {
    const s = this.load();
    assertAllowed(caller, `/storage/${volid.split(':')[0]}`, 'Datastore.Allocate');
    const path = this.vztmplPath(s, volid);
    if (!existsSync(path)) throw new PveFault(500, `volume '${volid}' does not exist`);
    rmSync(path);
    // PVE::Storage::Plugin::free_image: "try to cleanup directory to not clutter storage with
    // empty $vmid dirs": rmdir(dirname($path)), which removes an emptied template/cache too.
    try {
      rmdirSync(dirname(path));
    } catch {
      // not empty
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private checkParams(s: DoubleState, params: Record<string, string>, create: boolean): void {
    const errors: Record<string, string> = {};
    const has91 = s.release >= '9.1';
    for (const k of Object.keys(params)) {
      const known = CT_OPTIONS.has(k) || INDEXED.test(k) || (has91 && CT_OPTIONS_91.has(k)) || (create && CREATE_ONLY.has(k));
      if (!known) errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
    }
    if (params.memory !== undefined && !/^\d+$/.test(params.memory)) errors.memory = `type check ('integer') failed - got '${params.memory}'`;
    if (params.cpulimit !== undefined && !(Number(params.cpulimit) >= 0 && Number(params.cpulimit) <= 8192)) errors.cpulimit = 'value out of range';
    if (params.cpuunits !== undefined && !(Number(params.cpuunits) >= 1 && Number(params.cpuunits) <= 262144)) errors.cpuunits = 'value out of range';
    if (params.tags !== undefined && !/^[a-z0-9_+.;-]*$/.test(params.tags)) errors.tags = `invalid format - '${params.tags}' is not a valid tag`;
    for (const [k, v] of Object.entries(params)) {
      if (!/^dev\d+$/.test(k)) continue;
      // devN came with PVE 8.1 (pve-container's $dev_desc): [path=]/dev/…,mode=octal,uid=,gid=,deny-write=.
      if (s.release < '8.1') errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
      else if (!devString(v)) errors[k] = `invalid format - format error\n${k}.path: must be an absolute path under /dev`;
    }
    if (Object.keys(errors).length) throw new PveFault(400, 'Parameter verification failed.', errors);
  }

  private checkRootdirStorage(s: DoubleState, storage: string): void {
    const def = s.storages[storage];
    if (!def) throw new PveFault(500, `storage '${storage}' does not exist`);
    if (!def.content.includes('rootdir')) throw new PveFault(400, 'Parameter verification failed.', { storage: `storage '${storage}' does not support container directories` });
  }

  /** What check_ct_modify_config_perm and create_vm leave to root@pam. */
  private checkRootOnly(caller: Caller, params: Record<string, string>, conf: Conf | undefined): void {
    if (caller.user === 'root@pam') return;
    for (const [k, v] of Object.entries(params)) {
      if (/^mp\d+$/.test(k) && v.split(',')[0]!.startsWith('/')) throw new PveFault(500, 'Only root can pass arbitrary filesystem paths.');
      if (/^dev\d+$/.test(k)) throw new PveFault(403, 'Permission check failed (configuring device passthrough is only allowed for root@pam)');
      if (k === 'hookscript') throw new PveFault(403, 'Permission check failed (changing the hookscript is only allowed for root@pam)');
      if (k === 'features') {
        const unprivileged = (conf?.options.unprivileged ?? params.unprivileged) === '1';
        if (!unprivileged) throw new PveFault(403, 'Permission check failed (changing feature flags for privileged container is only allowed for root@pam)');
        if (featuresChangeBeyondNesting(conf?.options.features, v)) throw new PveFault(403, 'Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)');
      }
    }
  }

  private newVolume(s: DoubleState, storage: string, vmid: number, base: string | undefined): string {
    const def = s.storages[storage]!;
    let n = 0;
    const name = (i: number): string => (def.type === 'dir' ? `${storage}:${vmid}/vm-${vmid}-disk-${i}.raw` : `${storage}:subvol-${vmid}-disk-${i}`);
    while (s.volumes[name(n)]) n++;
    let volid = name(n);
    if (base) volid = `${storage}:${base.split(':')[1]}/${volid.split(':')[1]}`;
    s.volumes[volid] = base ? { base } : {};
    return volid;
  }

  /** A task that settles now: on failure the undo runs and the error gets Proxmox's prefix. */
  private finish(s: DoubleState, type: string, id: string, log: string[], undo: () => void, prefix: string): TaskPlan {
    const failed = takeFailure(s, type, log);
    if (failed) {
      undo();
      return settled(type, id, log, `${prefix}${failed}`);
    }
    return settled(type, id, log, undefined);
  }
}

/** pve-container's verify_lxc_dev_string and the $dev_desc properties. */
function devString(v: string): boolean {
  const [first, ...rest] = v.split(',');
  const path = first!.startsWith('path=') ? first!.slice(5) : first!;
  if (!path.startsWith('/dev/') || path.split('/').includes('..')) return false;
  return rest.every((p) => /^(mode=0?[0-7]{3,4}|uid=\d+|gid=\d+|deny-write=[01])$/.test(p));
}

export interface Conf {
  options: Record<string, string>;
  lxc: Array<[string, string]>;
  description?: string | undefined;
}

/** Proxmox's container config format: `#` lines are the description, then `key: value`. */
export function parseConf(text: string): Conf {
  const conf: Conf = { options: {}, lxc: [] };
  const descr: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break; // snapshots and pending sections
    if (line.startsWith('#')) {
      descr.push(decodeURIComponent(line.slice(1)));
      continue;
    }
    const m = /^([a-z][\w.-]*):\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[1]!.startsWith('lxc.')) conf.lxc.push([m[1]!, m[2]!]);
    else conf.options[m[1]!] = m[2]!;
  }
  if (descr.length) conf.description = descr.join('\n');
  return conf;
}

export function printConf(conf: Conf): string {
  let out = '';
  if (conf.description !== undefined) {
    for (const l of conf.description.split('\n')) out += `#${l.replace(/[^ -~]|%/g, (c) => encodeURIComponent(c))}\n`;
  }
  for (const [k, v] of Object.entries(conf.options).sort(([a], [b]) => a.localeCompare(b))) out += `${k}: ${v}\n`;
  for (const [k, v] of conf.lxc) out += `${k}: ${v}\n`;
  return out;
}

function volumesOf(conf: Conf): string[] {
  return Object.entries(conf.options)
    .filter(([k, v]) => (k === 'rootfs' || /^mp\d+$/.test(k)) && !v.startsWith('/'))
    .map(([, v]) => v.split(',')[0]!);
}

function assertVmid(vmid: number): void {
  if (!Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999) {
    throw new PveFault(400, 'Parameter verification failed.', { vmid: `invalid format - value must be at least 100` });
  }
}

function assertAllowed(caller: Caller, path: string, privilege: string): void {
  if (caller.privileges !== 'all') throw new PveFault(403, `Permission check failed (${path}, ${privilege})`);
}

function takeFailure(s: DoubleState, type: string, log: string[]): string | undefined {
  const f = s.faults.failTask;
  if (!f || f.type !== type) return undefined;
  delete s.faults.failTask;
  log.push(...f.log);
  return f.message;
}

function settled(type: string, id: string | number, log: string[], error: string | undefined): TaskPlan {
  const outcome: TaskOutcome = error === undefined ? { ok: true } : { ok: false, error };
  return { type, id: String(id), log, poll: () => outcome };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      /* already gone */
    }
  }
}

/** A UPID as Proxmox writes it: UPID:node:PID:PSTART:STARTTIME:type:id:user: (hex fields). */
export function makeUpid(node: string, type: string, id: string, user: string, seq: number): string {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');
  return `UPID:${node}:${hex(process.pid)}:${hex(1000 + seq)}:${hex(Math.floor(Date.now() / 1000))}:${type}:${id}:${user}:`;
}
