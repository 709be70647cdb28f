// Where the pve backend gets raw `lxc.*` keys from: the LXC backend's mapOciToLxc
// (src/backends/lxc/lxc-mapping.ts), written in parallel. Until it is merged, a host that needs
// raw keys (Proxmox VE before 9.1, a non-root process user, a cwd, tmpfs mounts) gets a clear
// error instead of a second, diverging copy of that mapping.
// MERGE: replace the body of loadMapOciToLxc with
//   return (await import('../lxc/lxc-mapping.js')).mapOciToLxc;
import { UnsupportedError } from '../../core/errors.js';
import type { MapOciToLxc } from './pve-mapping.js';

export async function loadMapOciToLxc(): Promise<MapOciToLxc> {
  return (spec) => {
    const needsRaw = spec.process.cwd !== '/' || (spec.process.user?.uid ?? 0) !== 0 || (spec.mounts ?? []).some((m) => m.type === 'tmpfs' && !['/dev', '/dev/shm'].includes(m.destination));
    if (!needsRaw) return { entries: [], degradations: [] };
    throw new UnsupportedError('this container needs raw LXC keys (process user, cwd or tmpfs mounts), and this build has no LXC mapping (src/backends/lxc/lxc-mapping.ts)');
  };
}
