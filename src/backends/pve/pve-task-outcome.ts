// After a Proxmox task failed or timed out, what it made may still be there: cleanup checks.
import { ProxmoxTaskError, ProxmoxTimeoutError } from './pve-errors.js';
import type { Proxmox } from './proxmox.js';

/** Errors after which Proxmox may have made the container (its task ran). */
export function ranTask(err: unknown): boolean {
  return err instanceof ProxmoxTaskError || err instanceof ProxmoxTimeoutError;
}

/** Destroys a container if it exists (cleanup after a task of unknown outcome). */
export async function destroyIfThere(proxmox: Proxmox, vmid: number): Promise<void> {
  try {
    await proxmox.status(vmid);
  } catch (err) {
    if (/does not exist/.test((err as Error).message)) return;
    throw err;
  }
  await proxmox.destroy(vmid, { purge: true, force: true });
}
