// Busybox OCI bundles built from Debian's busybox-static, for real containers in tests.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { defaultRuntimeConfig } from '../../src/core/oci/default-spec.js';
import { removeRootCgroupParents } from './cgroups.js';

export const BUSYBOX = '/bin/busybox';

/** A rootfs with busybox and its applets as symlinks in /bin. */
export function makeBusyboxRootfs(rootfs: string): void {
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  // Relative links: `busybox --install -s` would point them at the host path of this rootfs,
  // which does not exist inside the container.
  for (const applet of execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet && applet !== 'busybox' && !existsSync(join(rootfs, 'bin', applet))) symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
}

export interface BundleOptions {
  args?: string[];
  terminal?: boolean;
  annotations?: Record<string, string>;
  /** Applied to the config object before it is written. */
  edit?: (config: Record<string, any>) => void;
}

/** What `berth spec` writes (runc's defaults), with terminal off, busybox-friendly args and a /tmp. */
export function busyboxConfig(options: BundleOptions = {}): Record<string, any> {
  const config: Record<string, any> = defaultRuntimeConfig();
  config.process.terminal = options.terminal ?? false;
  config.process.args = options.args ?? ['sleep', '300'];
  config.process.env = ['PATH=/bin:/usr/bin:/sbin:/usr/sbin', 'TERM=xterm'];
  config.hostname = 'berth-test';
  config.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  if (options.annotations) config.annotations = options.annotations;
  options.edit?.(config);
  return config;
}

/** Makes `dir` a bundle: rootfs (shared busybox install) + config.json. */
export function makeBusyboxBundle(dir: string, options: BundleOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'rootfs/bin/busybox'))) makeBusyboxRootfs(join(dir, 'rootfs'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(busyboxConfig(options), null, 2));
  return dir;
}

/** A temp directory removed after the test (t.after) or by the caller. */
export function tempDir(prefix = 'berth-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    remove: () => {
      removeRootCgroupParents(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Every path under dir (relative, sorted), directories marked with a trailing "/". */
export function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const isDir = lstatSync(p).isDirectory();
      out.push(relative(dir, p) + (isDir ? '/' : ''));
      if (isDir) visit(p);
    }
  };
  visit(dir);
  return out.sort();
}
