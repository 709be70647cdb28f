// The OCI runtime config → LXC config mapping: one pure module, used by the lxc backend and by
// the Proxmox backend for the raw `lxc.*` keys it writes. Every field is mapped, refused with an
// InvalidArgumentError naming it, or listed as a degradation (the caller logs it; the table in
// docs/backends/lxc.md documents it). Nothing is dropped silently.
//
// LXC's config syntax has traps the values must avoid (LXC 5.0, src/lxc/confile.c):
// - a value is trimmed of spaces and tabs, and one pair of quotes around it is removed;
// - a line cannot hold a newline;
// - lxc.init.cmd is split on spaces with no quoting at all, so the init's arguments are
//   percent-encoded (encodeInitArg) and berth's init decodes them;
// - hooks run through `/bin/sh -c` on the host with LXC's own arguments appended: berth quotes
//   every word for the shell and ends the command with `#` so the appended words are a comment.
import { InvalidArgumentError } from '../../core/errors.js';
import { sizeInBytes } from '../../core/sizes.js';
import type { RuntimeConfig } from '../../core/oci/runtime-config.js';
import { Builder, type Json } from './lxc-builder.js';
import { mapResources } from './lxc-resources.js';
import { mapSeccomp } from './lxc-seccomp.js';
import { mapNamespaces, type Namespaces } from './lxc-namespaces.js';

export { mapLxcResources } from './lxc-resources.js';

export interface LxcConfigEntry {
  key: string;
  value: string;
}
/** A field LXC cannot honour exactly; logged by the caller and documented, never silent. */
export interface LxcDegradation {
  field: string;
  reason: string;
}
export interface LxcMapping {
  entries: LxcConfigEntry[];
  degradations: LxcDegradation[];
  /** The bundle's annotations, kept as they are (LXC has no place for them). */
  annotations: Record<string, string>;
  /** linux.seccomp as LXC's policy file text, for the caller to write at options.seccompProfile. */
  seccompPolicy?: string;
}
export type PathKind = 'dir' | 'file';
export interface LxcMappingOptions {
  /** Absolute host path of the root filesystem. */
  rootfs: string;
  cgroupMode: 'v1' | 'v2' | 'hybrid';
  /** Path, inside the container, of berth's init (berth-lxc-init): lxc.init.cmd starts with it. */
  initPath: string;
  /** Options for the init before `--` (the lxc backend's `--wait DIR`). */
  initArgs?: string[];
  /**
   * What is at a host path (a bind mount's source; a masked path under /proc or /sys; else the
   * path inside the rootfs), undefined when nothing is. Bind mounts need it to create the right
   * mount point; without it every source counts as a directory and masked paths as directories.
   */
  pathKind?: (hostPath: string) => PathKind | undefined;
  /**
   * The lxc backend's container: the hooks LXC runs (prestart, createRuntime, createContainer)
   * get its OCI state on stdin, and startContainer, poststart and poststop are left out: the
   * backend runs them itself at the spec's moments (lxc-hooks.ts). Without it (pve's raw keys)
   * every kind is mapped to LXC's hooks, with LXC_* variables instead of the state.
   */
  /**
   * The init opens a terminal for process.terminal (the lxc backend with a console socket: its
   * initArgs carry `--console FD`); process.consoleSize becomes the init's --console-size.
   */
  terminal?: boolean;
  /** Host path where the caller writes the seccomp policy (lxc.seccomp.profile); without it, not applied. */
  seccompProfile?: string;
  hookState?: { ociVersion: string; id: string; bundle: string; annotations: Record<string, string> };
}

const HOST_MOUNT = '/bin/mount';
/** bash is essential on Debian and Proxmox hosts. */
const HOST_BASH = '/bin/bash';
const MAX_U64_SAFE = 2 ** 63;

/** Percent-encodes an argument of lxc.init.cmd (split on spaces by LXC); "%00" is the empty one. */
export function encodeInitArg(arg: string): string {
  if (arg === '') return '%00';
  let out = '';
  for (const byte of Buffer.from(arg, 'utf8')) {
    out += byte <= 0x20 || byte === 0x25 || byte === 0x22 || byte === 0x27 || byte >= 0x7f ? `%${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** The inverse of encodeInitArg (what berth-lxc-init does), for tests and checks. */
export function decodeInitArg(word: string): string {
  if (word === '%00') return '';
  const bytes: number[] = [];
  for (let i = 0; i < word.length; i++) {
    if (word[i] === '%') {
      bytes.push(parseInt(word.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(word.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** One word for /bin/sh: single-quoted, with ' written as '\''. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An fstab field (lxc.mount.entry is parsed like fstab): space, tab, newline, backslash as octal. */
export function fstabEscape(field: string): string {
  return field.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The config file text. A value LXC would unquote (quotes at both ends) gets one more pair. */
export function renderLxcConfig(entries: LxcConfigEntry[]): string {
  return entries
    .map(({ key, value }) => {
      const q = value[0];
      const wrapped = value.length > 1 && (q === '"' || q === "'") && value.endsWith(q) ? `${q}${value}${q}` : value;
      return `${key} = ${wrapped}\n`;
    })
    .join('');
}


export function mapOciToLxc(spec: RuntimeConfig, options: LxcMappingOptions): LxcMapping {
  const b = new Builder();
  const linux: Json = (spec.linux as Json | undefined) ?? {};
  if (!options.rootfs.startsWith('/')) throw new InvalidArgumentError(`root.path: the LXC mapping needs an absolute rootfs path, got ${options.rootfs}`);
  // LXC 5.0 cuts lxc.rootfs.path at the first blank when it mounts the rootfs (seen here).
  if (/\s/.test(options.rootfs)) throw new InvalidArgumentError(`root.path: LXC cannot use a root filesystem path with blanks in it: ${JSON.stringify(options.rootfs)}`);

  b.add('lxc.rootfs.path', `dir:${options.rootfs}`, 'root.path');
  const namespaces = mapNamespaces(b, linux, spec);
  mapIdMaps(b, linux, namespaces);
  if (spec.hostname !== undefined) b.add('lxc.uts.name', spec.hostname, 'hostname');
  if ((spec as Json).domainname !== undefined) b.degrade('domainname', 'LXC has no key for the NIS domain name; it stays the host\'s');
  mapNetwork(b, linux, namespaces);
  const autodev = mapMounts(b, spec, options, namespaces.cloned.has('cgroup'));
  mapMaskedAndReadonly(b, linux, options);
  mapDevices(b, linux, autodev);
  mapProcess(b, spec, options);
  mapResources(b, linux, options.cgroupMode);
  mapCgroupsPath(b, linux);
  mapSysctl(b, linux);
  let seccompPolicy: string | undefined;
  if (linux.seccomp !== undefined) {
    if (options.seccompProfile === undefined) b.degrade('linux.seccomp', 'the profile is applied by the lxc backend only (its policy file lives in the container\'s directory)');
    else {
      const policy = mapSeccomp(linux.seccomp as Json);
      for (const d of policy.degradations) b.degrade(d.field, d.reason);
      b.add('lxc.seccomp.profile', options.seccompProfile, 'linux.seccomp');
      seccompPolicy = policy.text;
    }
  }
  mapHooks(b, spec, options.hookState);
  // Applied last among the mount hooks: mount points are made first, user hooks see a writable root.
  if (spec.root.readonly) b.add('lxc.hook.mount', `${HOST_MOUNT} -o remount,bind,ro "\${LXC_ROOTFS_MOUNT}" #`, 'root.readonly');
  if (linux.rootfsPropagation !== undefined) b.degrade('linux.rootfsPropagation', 'LXC sets up the rootfs propagation itself');
  if (linux.mountLabel !== undefined) b.degrade('linux.mountLabel', 'LXC has no key for the SELinux mount label');
  if (linux.intelRdt !== undefined) b.degrade('linux.intelRdt', 'LXC has no Intel RDT support');
  if (linux.personality !== undefined) {
    const domain = (linux.personality as Json).domain;
    if (domain === 'LINUX32') b.add('lxc.arch', 'linux32', 'linux.personality.domain');
    else if (domain !== 'LINUX') throw new InvalidArgumentError(`linux.personality.domain: LXC knows LINUX and LINUX32, not ${domain}`);
  }
  return { entries: b.entries, degradations: b.degradations, annotations: { ...(spec.annotations ?? {}) }, ...(seccompPolicy === undefined ? {} : { seccompPolicy }) };
}

function mapIdMaps(b: Builder, linux: Json, ns: Namespaces): void {
  const uid = (linux.uidMappings as Json[] | undefined) ?? [];
  const gid = (linux.gidMappings as Json[] | undefined) ?? [];
  if ((uid.length > 0 || gid.length > 0) && !ns.cloned.has('user')) {
    throw new InvalidArgumentError(`linux.${uid.length > 0 ? 'uidMappings' : 'gidMappings'}: id mappings need a new user namespace (linux.namespaces has none)`);
  }
  for (const [list, kind, field] of [[uid, 'u', 'uidMappings'], [gid, 'g', 'gidMappings']] as const) {
    list.forEach((m, i) => {
      for (const k of ['containerID', 'hostID', 'size']) {
        if (!Number.isInteger(m[k]) || m[k] < 0) throw new InvalidArgumentError(`linux.${field}[${i}].${k} must be a non-negative integer`);
      }
      b.add('lxc.idmap', `${kind} ${m.containerID} ${m.hostID} ${m.size}`, `linux.${field}[${i}]`);
    });
  }
  if (ns.cloned.has('user') && (uid.length === 0 || gid.length === 0)) {
    throw new InvalidArgumentError('linux.uidMappings: a new user namespace needs uid and gid mappings for LXC');
  }
}

function mapNetwork(b: Builder, linux: Json, ns: Namespaces): void {
  if (ns.joined.has('network')) return;
  if (!ns.cloned.has('network')) {
    b.add('lxc.net.0.type', 'none', 'linux.namespaces');
    return;
  }
  const devices = Object.entries((linux.netDevices as Record<string, Json> | undefined) ?? {});
  if (devices.length === 0) {
    b.add('lxc.net.0.type', 'empty', 'linux.namespaces');
    return;
  }
  devices.forEach(([hostName, dev], i) => {
    const field = `linux.netDevices.${hostName}`;
    b.add(`lxc.net.${i}.type`, 'phys', field);
    b.add(`lxc.net.${i}.link`, hostName, field);
    b.add(`lxc.net.${i}.name`, dev.name ?? hostName, `${field}.name`);
    b.add(`lxc.net.${i}.flags`, 'up', field);
  });
}

const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

/** Mounts in order; returns whether /dev is LXC's autodev tmpfs. */
function mapMounts(b: Builder, spec: RuntimeConfig, options: LxcMappingOptions, cgroupNamespace: boolean): boolean {
  let autodev = false;
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const dest = m.destination;
    if (!dest.startsWith('/') || dest.split('/').includes('..')) {
      throw new InvalidArgumentError(`${field}.destination must be an absolute path without "..", got ${JSON.stringify(dest)}`);
    }
    if (dest.replace(/\/+$/, '') === '') throw new InvalidArgumentError(`${field}.destination: LXC cannot mount over the root`);
    for (const k of ['uidMappings', 'gidMappings']) if ((m as Json)[k] !== undefined) throw new InvalidArgumentError(`${field}.${k}: LXC 5.0 has no id-mapped bind mounts`);
    const target = fstabEscape(dest.replace(/^\/+/, '').replace(/\/+$/, ''));
    const opts = [...(m.options ?? [])];
    for (const [j, o] of opts.entries()) if (/[\s,]/.test(o) || o === '') throw new InvalidArgumentError(`${field}.options[${j}]: ${JSON.stringify(o)} is not a mount option`);
    const type = m.type ?? (opts.some((o) => o === 'bind' || o === 'rbind') ? 'bind' : undefined);
    const entry = (source: string, fstype: string, o: string[]): void =>
      b.add('lxc.mount.entry', `${fstabEscape(source)} ${target} ${fstype} ${o.length ? o.join(',') : 'defaults'} 0 0`, field);

    switch (type) {
      case 'bind':
      case 'none': {
        if (!opts.includes('bind') && !opts.includes('rbind') && type === 'none') {
          throw new InvalidArgumentError(`${field}: type "none" without a bind or rbind option is not a mount LXC can make`);
        }
        const source = m.source ?? '';
        if (!source.startsWith('/')) throw new InvalidArgumentError(`${field}.source: a bind mount needs an absolute source path, got ${JSON.stringify(source)}`);
        const kind = options.pathKind?.(source) ?? 'dir';
        const flags = opts.filter((o) => o !== 'bind' && o !== 'rbind');
        entry(source, 'none', [opts.includes('rbind') ? 'rbind' : 'bind', ...flags, kind === 'file' ? 'create=file' : 'create=dir']);
        return;
      }
      case 'cgroup':
      case 'cgroup2': {
        if (dest.replace(/\/+$/, '') !== '/sys/fs/cgroup') throw new InvalidArgumentError(`${field}.destination: LXC mounts cgroups only at /sys/fs/cgroup, not ${dest}`);
        const extra = opts.filter((o) => !['ro', 'rw', 'nosuid', 'noexec', 'nodev', 'relatime'].includes(o));
        if (extra.length) b.degrade(`${field}.options`, `LXC mounts the cgroup tree its own way; ${extra.join(',')} not applied`);
        b.add('lxc.mount.auto', opts.includes('ro') ? 'cgroup:ro' : 'cgroup:rw', field);
        if (!cgroupNamespace) b.degrade(field, 'without a cgroup namespace LXC shows the container\'s cgroup at its host path under /sys/fs/cgroup (parents unreadable), not at the root as runc does; add {"type": "cgroup"} to linux.namespaces');
        return;
      }
      case 'tmpfs':
        if (dest.replace(/\/+$/, '') === '/dev') {
          // LXC's autodev: a tmpfs on /dev filled with the standard device nodes.
          autodev = true;
          b.add('lxc.autodev', '1', field);
          const size = opts.find((o) => o.startsWith('size='));
          if (size) b.add('lxc.autodev.tmpfs.size', String(parseSize(size.slice(5), `${field}.options`)), `${field}.options`);
          const other = opts.filter((o) => !o.startsWith('size=') && !['nosuid', 'strictatime', 'mode=755', 'mode=0755'].includes(o));
          if (other.length) b.degrade(`${field}.options`, `LXC's /dev tmpfs (autodev) takes only a size; ${other.join(',')} not applied`);
          return;
        }
        entry(m.source ?? 'tmpfs', 'tmpfs', [...opts, 'create=dir']);
        return;
      case 'devpts':
        if (dest.replace(/\/+$/, '') === '/dev/pts') {
          // LXC unmounts whatever is on /dev/pts and mounts its own devpts instance (with
          // /dev/ptmx) only when it is asked for ptys: the mount entry alone leaves neither.
          b.add('lxc.pty.max', '1024', field);
          return;
        }
        entry(m.source ?? type, type, [...opts, 'create=dir']);
        return;
      case 'proc':
      case 'sysfs':
      case 'mqueue':
        entry(m.source ?? type, type, [...opts, 'create=dir']);
        return;
      case undefined:
        throw new InvalidArgumentError(`${field}.type is required (or a bind/rbind option)`);
      default:
        if (PROPAGATION.has(type)) throw new InvalidArgumentError(`${field}.type: "${type}" is not a file system type`);
        entry(m.source ?? type, type, [...opts, 'create=dir']);
    }
  });
  if (!autodev) b.add('lxc.autodev', '0', 'mounts');
  return autodev;
}

function mapMaskedAndReadonly(b: Builder, linux: Json, options: LxcMappingOptions): void {
  // /proc and /sys look the same from the host; other paths are looked up in the rootfs.
  const hostView = (p: string): string => (/^\/(proc|sys)(\/|$)/.test(p) ? p : `${options.rootfs}${p}`);
  ((linux.maskedPaths as string[] | undefined) ?? []).forEach((p, i) => {
    const field = `linux.maskedPaths[${i}]`;
    assertContainerPath(p, field);
    const kind = options.pathKind ? options.pathKind(hostView(p)) : 'dir';
    if (kind === undefined) return; // nothing there to mask (runc skips it too)
    const target = fstabEscape(p.slice(1));
    if (kind === 'file') b.add('lxc.mount.entry', `/dev/null ${target} none bind,ro,optional 0 0`, field);
    else b.add('lxc.mount.entry', `tmpfs ${target} tmpfs ro,optional 0 0`, field);
  });
  ((linux.readonlyPaths as string[] | undefined) ?? []).forEach((p, i) => {
    const field = `linux.readonlyPaths[${i}]`;
    assertContainerPath(p, field);
    b.add('lxc.mount.entry', `${fstabEscape(hostView(p))} ${fstabEscape(p.slice(1))} none bind,ro,optional 0 0`, field);
  });
}

/**
 * linux.sysctl, written by a mount hook: it runs in the container's namespaces (so net.*, ipc and
 * uts sysctls land in the container's) and sees the host's /proc, before the container's /proc
 * is in place. LXC's own lxc.sysctl writes later, into the container's /proc, where OCI's
 * readonlyPaths have already made /proc/sys read-only: every Docker create failed on
 * net.ipv4.ip_unprivileged_port_start. A name's dots are path separators; a slash stands for a
 * dot within a component (sysctl(8)'s convention for interface names like eth0.100).
 */
function mapSysctl(b: Builder, linux: Json): void {
  for (const [key, value] of Object.entries((linux.sysctl as Record<string, string> | undefined) ?? {})) {
    const path = key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
    // Checked as the path it becomes: no empty, "." or ".." component can leave /proc/sys.
    if (!/^[A-Za-z0-9_.\-/]+$/.test(key) || path.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new InvalidArgumentError(`linux.sysctl: "${key}" is not a sysctl name`);
    const file = `/proc/sys/${path}`;
    b.add('lxc.hook.mount', `printf '%s' ${shellQuote(String(value))} > ${shellQuote(file)} #`, `linux.sysctl.${key}`);
  }
}

function assertContainerPath(p: string, field: string): void {
  if (!p.startsWith('/') || p === '/' || p.split('/').includes('..')) throw new InvalidArgumentError(`${field} must be an absolute path inside the container, got ${JSON.stringify(p)}`);
}

/** linux.devices: nodes made by a host hook (mknod), in LXC's /dev tmpfs when autodev is on. */
function mapDevices(b: Builder, linux: Json, autodev: boolean): void {
  ((linux.devices as Json[] | undefined) ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const path = String(d.path ?? '');
    assertContainerPath(path, `${field}.path`);
    const type = d.type === 'u' ? 'c' : d.type;
    if (!['c', 'b', 'p'].includes(type)) throw new InvalidArgumentError(`${field}.type must be c, b, u or p, got ${JSON.stringify(d.type)}`);
    if (type !== 'p' && (!Number.isInteger(d.major) || !Number.isInteger(d.minor))) throw new InvalidArgumentError(`${field}: major and minor are required for a ${type} device`);
    const mode = Number.isInteger(d.fileMode) ? (d.fileMode as number).toString(8) : '666';
    const dest = `"\${LXC_ROOTFS_MOUNT}"${shellQuote(path)}`;
    const parent = `"\${LXC_ROOTFS_MOUNT}"${shellQuote(path.slice(0, path.lastIndexOf('/')) || '/')}`;
    const node = type === 'p' ? `mknod -m ${mode} ${dest} p` : `mknod -m ${mode} ${dest} ${type} ${d.major} ${d.minor}`;
    const chown = `chown ${Number(d.uid ?? 0)}:${Number(d.gid ?? 0)} ${dest}`;
    b.add(autodev ? 'lxc.hook.autodev' : 'lxc.hook.mount', `mkdir -p ${parent} && rm -f ${dest} && ${node} && ${chown} #`, field);
  });
}

const RLIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

function mapProcess(b: Builder, spec: RuntimeConfig, options: LxcMappingOptions): void {
  const p = spec.process as Json;
  const env = (p.env as string[] | undefined) ?? [];
  env.forEach((e, i) => {
    if (!/^[^=]+=/.test(e)) throw new InvalidArgumentError(`process.env[${i}]: ${JSON.stringify(e)} is not NAME=value (LXC would copy NAME from the host)`);
    b.add('lxc.environment', e, `process.env[${i}]`);
  });
  // LXC adds container=lxc (and PATH when unset) to the init's environment: berth's init takes
  // them out again unless the bundle sets them.
  const names = new Set(env.map((e) => e.slice(0, e.indexOf('='))));
  const unset = ['container', 'PATH'].filter((n) => !names.has(n)).flatMap((n) => ['--unset', n]);
  const size = p.consoleSize as { height?: number; width?: number } | undefined;
  const console = options.terminal && p.terminal && size ? ['--console-size', `${Number(size.height ?? 0)}x${Number(size.width ?? 0)}`] : [];
  const cmd = [options.initPath, ...(options.initArgs ?? []), ...console, ...unset, '--', ...(p.args as string[])];
  b.add('lxc.init.cmd', cmd.map(encodeInitArg).join(' '), 'process.args');
  b.add('lxc.init.cwd', p.cwd as string, 'process.cwd');
  const user = (p.user as Json | undefined) ?? { uid: 0, gid: 0 };
  b.add('lxc.init.uid', user.uid ?? 0, 'process.user.uid');
  b.add('lxc.init.gid', user.gid ?? 0, 'process.user.gid');
  const groups = (user.additionalGids as number[] | undefined) ?? [];
  if (groups.length) b.add('lxc.init.groups', groups.join(','), 'process.user.additionalGids');
  if (user.umask !== undefined) b.degrade('process.user.umask', 'LXC has no key for the umask; the init keeps LXC\'s (022)');
  ((p.rlimits as Json[] | undefined) ?? []).forEach((r, i) => {
    const name = String(r.type ?? '').replace(/^RLIMIT_/, '').toLowerCase();
    if (!RLIMITS.has(name) || !String(r.type).startsWith('RLIMIT_')) throw new InvalidArgumentError(`process.rlimits[${i}].type: unknown resource limit ${JSON.stringify(r.type)}`);
    const v = (n: unknown, k: string): string => {
      if (typeof n !== 'number' || n < 0 || !Number.isInteger(n)) throw new InvalidArgumentError(`process.rlimits[${i}].${k} must be a non-negative integer`);
      return n >= MAX_U64_SAFE ? 'unlimited' : String(n);
    };
    b.add(`lxc.prlimit.${name}`, `${v(r.soft, 'soft')}:${v(r.hard, 'hard')}`, `process.rlimits[${i}]`);
  });
  if (p.noNewPrivileges) b.add('lxc.no_new_privs', '1', 'process.noNewPrivileges');
  if (p.oomScoreAdj !== undefined) {
    if (!Number.isInteger(p.oomScoreAdj) || p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000) throw new InvalidArgumentError('process.oomScoreAdj must be an integer from -1000 to 1000');
    b.add('lxc.proc.oom_score_adj', p.oomScoreAdj, 'process.oomScoreAdj');
  }
  mapCapabilities(b, p.capabilities as Json | undefined);
  if (!options.terminal) {
    if (p.terminal) b.degrade('process.terminal', 'without a console socket the init gets the stdio berth was given, not a pseudo-terminal');
    if (p.consoleSize !== undefined) b.degrade('process.consoleSize', 'no pseudo-terminal, so no console size');
  }
  if (p.apparmorProfile !== undefined) b.add('lxc.apparmor.profile', p.apparmorProfile, 'process.apparmorProfile');
  else b.add('lxc.apparmor.profile', 'unconfined', 'process.apparmorProfile');
  if (p.selinuxLabel !== undefined) b.add('lxc.selinux.context', p.selinuxLabel, 'process.selinuxLabel');
  for (const k of ['ioPriority', 'scheduler', 'execCPUAffinity']) if (p[k] !== undefined) b.degrade(`process.${k}`, 'LXC 5.0 has no key for it');
}

function mapCapabilities(b: Builder, caps: Json | undefined): void {
  const names = (list: unknown, field: string): string[] =>
    ((list as string[] | undefined) ?? []).map((c, i) => {
      if (!/^CAP_[A-Z_]+$/.test(c)) throw new InvalidArgumentError(`${field}[${i}]: ${JSON.stringify(c)} is not a capability name`);
      return c.slice(4).toLowerCase();
    });
  const bounding = names(caps?.bounding, 'process.capabilities.bounding');
  b.add('lxc.cap.keep', bounding.length ? bounding.join(' ') : 'none', 'process.capabilities.bounding');
  const same = (k: string): boolean => {
    const set = names(caps?.[k], `process.capabilities.${k}`);
    return set.length === bounding.length && set.every((c) => bounding.includes(c));
  };
  for (const k of ['effective', 'permitted']) {
    if (caps?.[k] !== undefined && !same(k)) b.degrade(`process.capabilities.${k}`, 'LXC keeps one set (lxc.cap.keep, from bounding): the init has every kept capability');
  }
  for (const k of ['inheritable', 'ambient']) {
    if (names(caps?.[k], `process.capabilities.${k}`).length) b.degrade(`process.capabilities.${k}`, 'LXC does not set this set; it stays empty');
  }
}

/** A tmpfs size= option in bytes, through berth's one size parser. */
function parseSize(text: string, field: string): number {
  const bytes = sizeInBytes(text);
  if (bytes === undefined) throw new InvalidArgumentError(`${field}: size ${JSON.stringify(text)} is not a number of bytes (k, m or g allowed)`);
  return bytes;
}

function mapCgroupsPath(b: Builder, linux: Json): void {
  if (linux.cgroupsPath === undefined) return;
  const path = String(linux.cgroupsPath).replace(/^\/+/, '').replace(/\/+$/, '');
  if (path === '' || path.includes(':') || path.split('/').includes('..')) {
    throw new InvalidArgumentError(`linux.cgroupsPath: ${JSON.stringify(linux.cgroupsPath)} is not a cgroup path LXC can use (no systemd slice:prefix:name form, no "..")`);
  }
  b.add('lxc.cgroup.dir.container', path, 'linux.cgroupsPath');
  b.add('lxc.cgroup.dir.monitor', `${path}.monitor`, 'linux.cgroupsPath');
  b.add('lxc.cgroup.dir.monitor.pivot', `${path}.pivot`, 'linux.cgroupsPath');
}

/**
 * The words before a hook LXC runs that feed it the OCI state (status creating) on stdin. LXC
 * runs `exec <value>` through /bin/sh, so the pipe lives in a shell of its own with the hook's
 * words as "$@". LXC gives the init's pid as $LXC_PID to start-host hooks only: the pid is in
 * the state when LXC has it.
 */
function statePrefix(s: NonNullable<LxcMappingOptions['hookState']>): string {
  const head = JSON.stringify({ ociVersion: s.ociVersion, id: s.id, status: 'creating' }).slice(0, -1) + ',';
  const tail = JSON.stringify({ bundle: s.bundle, annotations: s.annotations }).slice(1);
  const script = `{ printf '%s' ${shellQuote(head)}; [ -n "$LXC_PID" ] && printf '"pid":%s,' "$LXC_PID"; printf '%s' ${shellQuote(tail)}; } | "$@"`;
  return `/bin/sh -c ${shellQuote(script)} oci-hook `;
}

/** OCI hooks → LXC hooks. LXC runs them through /bin/sh with its own words appended. */
function mapHooks(b: Builder, spec: RuntimeConfig, hookState: LxcMappingOptions['hookState']): void {
  const hooks = (spec.hooks ?? {}) as Record<string, Json[]>;
  const where: Record<string, string | undefined> = {
    prestart: 'lxc.hook.start-host',
    createRuntime: 'lxc.hook.start-host',
    createContainer: 'lxc.hook.mount',
    startContainer: 'lxc.hook.start',
    poststart: undefined,
    poststop: 'lxc.hook.post-stop',
  };
  for (const kind of Object.keys(hooks)) if (!(kind in where)) throw new InvalidArgumentError(`hooks.${kind}: unknown hook kind`);
  const runByBackend = new Set(hookState ? ['startContainer', 'poststart', 'poststop'] : []);
  // In runtime.md's order (prestart before createRuntime on the same LXC hook), not the keys'.
  for (const kind of Object.keys(where)) {
    const list = hooks[kind];
    if (!list?.length || runByBackend.has(kind)) continue;
    const key = where[kind];
    if (key === undefined) {
      b.degrade(`hooks.${kind}`, 'LXC has no hook after the init runs: the lxc backend runs these itself after start; raw LXC keys cannot express them');
      continue;
    }
    const stdin = hookState ? statePrefix(hookState) : '';
    if (!hookState) b.degrade(`hooks.${kind}`, 'LXC hooks get LXC_* environment variables, not the OCI state on stdin');
    if (kind === 'startContainer') b.degrade(`hooks.${kind}`, 'runs inside the container through its /bin/sh, when the container is created (before the init waits), not at start');
    list.forEach((h, i) => {
      const field = `hooks.${kind}[${i}]`;
      const path = String(h.path ?? '');
      if (!path.startsWith('/')) throw new InvalidArgumentError(`${field}.path must be absolute, got ${JSON.stringify(path)}`);
      const args = (h.args as string[] | undefined) ?? [path];
      const words: string[] = [];
      if (h.env !== undefined) words.push('env', '-i', ...(h.env as string[]).map(shellQuote));
      if (h.timeout !== undefined) {
        if (!Number.isInteger(h.timeout) || h.timeout <= 0) throw new InvalidArgumentError(`${field}.timeout must be a positive integer`);
        words.push('timeout', String(h.timeout));
      }
      // args[0] is the hook's argv[0] (dockerd's libnetwork-setkey is /proc/PID/exe, a multi-call
      // binary that reads it): LXC's /bin/sh cannot set it, bash's exec -a can.
      if (args.length > 0 && args[0] !== path) words.push(HOST_BASH, '-c', shellQuote('exec -a "$0" "$@"'), shellQuote(args[0]!));
      words.push(shellQuote(path), ...args.slice(1).map(shellQuote));
      b.add(key, `${stdin}${words.join(' ')} #`, field);
    });
  }
}
