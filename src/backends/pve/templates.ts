// One Proxmox template container per key: the image's manifest digest for a container made from
// a cached image, else the SHA-256 of a reproducible tarball of the bundle's rootfs. Made once (a
// rootfs tarball uploaded to template_storage, `pct create`, `pct template`, the tarball removed)
// and then cloned for every container. Its description and tags record the key, so berth finds
// and verifies it on Proxmox itself; an image's template is found without reading the rootfs.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { resolveInRoot } from '../../core/path-in-root.js';
import { runTool } from '../../core/exec.js';
import { ToolError } from '../../core/errors.js';
import { log, errorFields } from '../../core/log.js';
import { lockDirectory } from '../../core/lock.js';
import { Revert } from '../../core/revert.js';
import type { Proxmox, PveStatus } from './proxmox.js';
import type { VmidAllocator } from './vmid-allocator.js';
import { destroyIfThere, ranTask } from './pve-task-outcome.js';

export interface TemplateSpec {
  /** What the key names: an image's manifest digest, or the hash of the rootfs tarball. */
  kind: 'image' | 'rootfs';
  /** What identifies the content: "sha256:…" (or "sha512:…" for an image digest). */
  key: string;
  unprivileged: boolean;
}

export interface TemplateSettings {
  /** Where the template's root disk lives (a storage that can clone, e.g. ZFS). */
  storage: string;
  /** Where the tarball is uploaded (a storage with `vztmpl` content). */
  templateStorage: string;
}

/** The template's tag: short, and in Proxmox's tag alphabet. */
export function templateTag(spec: TemplateSpec): string {
  const prefix = spec.kind === 'image' ? 'berth-img' : 'berth-tpl';
  return `${prefix}-${spec.key.replace(/^sha(256|512):/, '').slice(0, 16)}${spec.unprivileged ? '' : '-priv'}`;
}

/** The template's description: the full key, which `find` compares (a tag is only a prefix). */
export function templateDescription(spec: TemplateSpec): string {
  return `berth template\n${spec.kind === 'image' ? 'image' : 'key'}: ${spec.key}\nunprivileged: ${spec.unprivileged ? 1 : 0}`;
}

/** The VMID map's name for the template. */
function templateName(spec: TemplateSpec): string {
  return spec.kind === 'image' ? `template:image:${spec.key}` : `template:${spec.key}`;
}

/** A reproducible tarball of a rootfs (sorted, owners numeric, times zeroed) and its SHA-256. */
export async function rootfsTarball(rootfs: string, workDir: string): Promise<{ file: string; key: string }> {
  const file = await packRootfs(rootfs, workDir);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { file, key: `sha256:${hash.digest('hex')}` };
}

/**
 * The rootfs as a tarball in a fresh directory under `workDir` (the caller removes that
 * directory). `dirs` (an image's declared volumes) are added as empty directories where the
 * rootfs has nothing yet: the rootfs may be an image's read-only template, so they are made in
 * a staging directory, never in it.
 */
export async function packRootfs(rootfs: string, workDir: string, dirs: readonly string[] = []): Promise<string> {
  mkdirSync(workDir, { recursive: true });
  const dir = mkdtempSync(join(workDir, 'rootfs-'));
  const file = join(dir, 'rootfs.tar');
  const extra: string[] = [];
  for (const d of dirs) {
    // Where the directory would be inside the rootfs, symlinks resolved within it (as mkdir -p there would).
    const rel = relative(rootfs, resolveInRoot(rootfs, d));
    if (rel === '' || existsSync(join(rootfs, rel))) continue;
    mkdirSync(join(dir, 'extra', rel), { recursive: true, mode: 0o755 });
    extra.push(`./${rel}`);
  }
  const more = extra.length ? ['--directory', join(dir, 'extra'), ...[...new Set(extra)].sort()] : [];
  const r = await runTool(['tar', '--create', '--file', file, '--format=gnu', '--sort=name', '--mtime=@0', '--numeric-owner', '--directory', rootfs, '.', ...more]);
  if (r.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new ToolError(`cannot pack rootfs ${rootfs}: ${r.stderr.trim()}`, { exitCode: r.exitCode, stderr: r.stderr });
  }
  return file;
}

export class Templates {
  constructor(
    private readonly proxmox: Proxmox,
    private readonly allocator: VmidAllocator,
    private readonly settings: TemplateSettings,
    private readonly lockDir: string,
  ) {}

  /** The template for `spec`, verified by its description; undefined when there is none. */
  async find(spec: TemplateSpec, listed?: PveStatus[]): Promise<number | undefined> {
    const tag = templateTag(spec);
    for (const ct of listed ?? (await this.proxmox.list())) {
      if (!ct.template || !(ct.tags.includes(tag) || ct.name === tag)) continue;
      const cfg = await this.proxmox.getConfig(ct.vmid);
      if ((cfg.options.description ?? '').trim() === templateDescription(spec)) return ct.vmid;
      await log('warn', `CT ${ct.vmid} carries tag ${tag} but its description does not record ${spec.key}: not used`, { op: 'create', vmid: ct.vmid });
    }
    return undefined;
  }

  /**
   * Finds the template or makes it from the tarball `tarball()` resolves to (called only on a
   * miss, so a hit reads no rootfs); one maker at a time per key.
   */
  async ensure(spec: TemplateSpec, tarball: () => Promise<string>): Promise<number> {
    const found = await this.find(spec);
    if (found !== undefined) return found;
    const dir = join(this.lockDir, templateTag(spec));
    mkdirSync(dir, { recursive: true });
    const lock = await lockDirectory(dir, { what: `template ${spec.key}`, timeoutMs: 600_000 });
    try {
      const again = await this.find(spec);
      if (again !== undefined) return again;
      return await this.make(spec, await tarball());
    } finally {
      lock?.release();
    }
  }

  private async make(spec: TemplateSpec, tarball: string): Promise<number> {
    const revert = new Revert();
    const tag = templateTag(spec);
    try {
      const volid = await this.proxmox.uploadTemplate(this.settings.templateStorage, tarball, `${tag}.tar`);
      revert.add(`uploaded ${volid}`, () => this.proxmox.freeVolume(volid));
      const sizeGiB = Math.max(1, Math.ceil((statSync(tarball).size * 1.5) / 2 ** 30));
      const vmid = await this.allocator.create(templateName(spec), 'templates', revert, async (id) => {
        try {
          await this.proxmox.create(id, volid, {
            rootfs: `${this.settings.storage}:${sizeGiB}`,
            hostname: tag,
            unprivileged: spec.unprivileged ? '1' : '0',
            ostype: 'unmanaged',
            description: templateDescription(spec),
            tags: `berth;${tag}`,
          });
        } catch (err) {
          if (ranTask(err)) revert.add(`template CT ${id}`, () => destroyIfThere(this.proxmox, id));
          throw err;
        }
        revert.add(`template CT ${id}`, () => this.proxmox.destroy(id, { purge: true, force: true }));
      });
      await this.proxmox.template(vmid);
      revert.commit();
      // The template holds the rootfs now; the tarball is not needed any more.
      await this.proxmox.freeVolume(volid).catch((err) => log('warn', `could not remove ${volid} after making template CT ${vmid}`, { vmid, ...errorFields(err) }));
      return vmid;
    } catch (err) {
      for (const f of await revert.run()) await log('warn', `cleanup of ${f.what} failed`, { op: 'create', ...errorFields(f.error) });
      throw err;
    }
  }
}
