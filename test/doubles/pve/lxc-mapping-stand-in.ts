// A STAND-IN for the LXC backend's mapOciToLxc (src/backends/lxc/lxc-mapping.ts, written in
// parallel and wired at merge): just the raw keys the pve backend takes from it, in LXC's syntax.
import type { MapOciToLxc } from '../../../src/backends/pve/pve-mapping.js';

export const standInMapOciToLxc: MapOciToLxc = (spec) => {
  const entries: { key: string; value: string }[] = [];
  entries.push({ key: 'lxc.init.cmd', value: spec.process.args.map((a) => (/^[\w./=:-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`)).join(' ') });
  for (const e of spec.process.env ?? []) entries.push({ key: 'lxc.environment', value: e });
  entries.push({ key: 'lxc.init.cwd', value: spec.process.cwd });
  entries.push({ key: 'lxc.init.uid', value: String(spec.process.user?.uid ?? 0) });
  entries.push({ key: 'lxc.init.gid', value: String(spec.process.user?.gid ?? 0) });
  for (const m of spec.mounts ?? []) {
    if (m.type !== 'tmpfs' || m.destination === '/dev') continue;
    entries.push({ key: 'lxc.mount.entry', value: `tmpfs ${m.destination.replace(/^\//, '')} tmpfs ${[...(m.options ?? []), 'create=dir'].join(',')} 0 0` });
  }
  return { entries, degradations: [] };
};
