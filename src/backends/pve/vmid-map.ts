// OCI container id ↔ Proxmox VMID, kept under berth's root (<root>/pve/vmids.json): written
// atomically, changed only under a flock of its directory, so two berth processes never hand
// out the same VMID and a crash leaves the old file or the new one.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { errnoCode, InternalError } from '../../core/errors.js';
import { lockDirectory } from '../../core/lock.js';

export interface VmidEntry {
  vmid: number;
  /** Whether berth has started it (a stopped Proxmox container is OCI "created" until then). */
  started: boolean;
  created: string;
}

export interface VmidFile {
  version: 1;
  /** OCI id → container. */
  containers: Record<string, VmidEntry>;
  /** Template key (rootfs hash, later image digest) → template container. */
  templates: Record<string, VmidEntry>;
}

export class VmidMap {
  readonly dir: string;
  private readonly file: string;

  constructor(root: string) {
    this.dir = join(root, 'pve');
    this.file = join(this.dir, 'vmids.json');
  }

  read(): VmidFile {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as VmidFile;
      if (data.version !== 1 || typeof data.containers !== 'object' || typeof data.templates !== 'object') {
        throw new InternalError(`${this.file} is not a berth VMID map (version 1)`);
      }
      return data;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { version: 1, containers: {}, templates: {} };
      if (err instanceof SyntaxError) throw new InternalError(`${this.file} is not valid JSON: ${err.message}`, { cause: err });
      throw err;
    }
  }

  /** Every VMID berth has handed out (containers and templates). */
  used(data: VmidFile = this.read()): Set<number> {
    return new Set([...Object.values(data.containers), ...Object.values(data.templates)].map((e) => e.vmid));
  }

  /** Runs `fn` on the map under the lock; what `fn` changes is written back atomically. */
  async update<T>(fn: (data: VmidFile) => T | Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const lock = await lockDirectory(this.dir, { what: `the VMID map ${this.file}` });
    if (!lock) throw new InternalError(`${this.dir} vanished while locking it`);
    try {
      const data = this.read();
      const before = JSON.stringify(data);
      const out = await fn(data);
      const after = JSON.stringify(data, null, 2);
      if (after !== JSON.stringify(JSON.parse(before), null, 2)) writeFileAtomic(this.file, `${after}\n`, 0o600);
      return out;
    } finally {
      lock.release();
    }
  }
}
