// New VMIDs: Proxmox's /cluster/nextid when it falls inside [proxmox] vmid_range, else the lowest
// free one in the range. The VMID is recorded in the map before Proxmox is asked to use it; when
// Proxmox answers that it is taken (another client won a race), the entry goes and another is
// tried.
import { BackendError, ContainerExistsError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import type { Revert } from '../../core/revert.js';
import { isVmidTaken } from './pve-errors.js';
import type { Proxmox } from './proxmox.js';
import type { VmidFile, VmidMap } from './vmid-map.js';

export interface VmidRange {
  lo: number;
  hi: number;
}

const ATTEMPTS = 5;

export function parseVmidRange(text: string): VmidRange {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 100 || hi > 999_999_999 || lo > hi) throw new BackendError(`vmid_range "${text}" must be LOW-HIGH within 100-999999999`);
  return { lo, hi };
}

export class VmidAllocator {
  constructor(
    private readonly proxmox: Proxmox,
    readonly map: VmidMap,
    readonly range: VmidRange,
  ) {}

  /**
   * Picks a VMID for `key`, records it, and runs `make` with it; retries with another VMID when
   * Proxmox says it is taken. The map entry's removal is registered with `revert`.
   */
  async create(key: string, kind: 'containers' | 'templates', revert: Revert, make: (vmid: number) => Promise<void>): Promise<number> {
    const taken = new Set<number>();
    for (let attempt = 1; ; attempt++) {
      const vmid = await this.reserve(key, kind, taken);
      revert.add(`VMID map entry ${key} → ${vmid}`, () => this.release(key, kind, vmid));
      try {
        await make(vmid);
        return vmid;
      } catch (err) {
        if (!isVmidTaken(err) || attempt >= ATTEMPTS) throw err;
        await log('info', `VMID ${vmid} is taken on Proxmox; trying another`, { op: 'create', vmid });
        taken.add(vmid);
        await this.release(key, kind, vmid);
      }
    }
  }

  private async reserve(key: string, kind: 'containers' | 'templates', taken: Set<number>): Promise<number> {
    const next = await this.proxmox.nextId();
    let existing: Set<number> | undefined;
    return this.map.update(async (data: VmidFile) => {
      if (kind === 'containers' && data.containers[key]) throw new ContainerExistsError(key);
      const used = this.map.used(data);
      const free = (n: number): boolean => n >= this.range.lo && n <= this.range.hi && !used.has(n) && !taken.has(n) && !(existing?.has(n) ?? false);
      let vmid = free(next) ? next : undefined;
      if (vmid === undefined) {
        existing = new Set((await this.proxmox.list()).map((c) => c.vmid));
        for (let n = this.range.lo; n <= this.range.hi && vmid === undefined; n++) if (free(n)) vmid = n;
      }
      if (vmid === undefined) throw new BackendError(`no free VMID in vmid_range ${this.range.lo}-${this.range.hi}`);
      data[kind][key] = { vmid, started: false, created: new Date().toISOString() };
      return vmid;
    });
  }

  async release(key: string, kind: 'containers' | 'templates', vmid: number): Promise<void> {
    await this.map.update((data) => {
      if (data[kind][key]?.vmid === vmid) delete data[kind][key];
    });
  }
}
