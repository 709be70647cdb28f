// Where the pve backend gets raw `lxc.*` keys from: the LXC backend's mapOciToLxc
// (src/backends/lxc/lxc-mapping.ts), one mapping for both. One difference: the lxc backend starts
// the process through berth's own init (bind-mounted into the container), which decodes
// percent-encoded arguments, because LXC splits lxc.init.cmd on blanks with no quoting. A Proxmox
// container has no such init (yet), so here lxc.init.cmd is the plain argv; an argv that LXC
// would split wrongly gives no lxc.init.cmd but a degradation naming the argument, so a host that
// needs the raw key refuses the container (naming it) rather than running it wrongly.
import type { MapOciToLxc } from './pve-mapping.js';

/** Characters LXC's lxc.init.cmd split cannot carry inside one argument. */
const UNSAFE_IN_INIT_CMD = /[\s"'\\]/;

export async function loadMapOciToLxc(): Promise<MapOciToLxc> {
  const { mapOciToLxc } = await import('../lxc/lxc-mapping.js');
  return (spec, options) => {
    const mapping = mapOciToLxc(spec, options);
    const args = spec.process.args;
    const bad = args.findIndex((a) => a === '' || UNSAFE_IN_INIT_CMD.test(a));
    const degradations = [...mapping.degradations];
    if (bad >= 0) {
      degradations.push({ field: `process.args[${bad}]`, reason: `${JSON.stringify(args[bad])} cannot be passed through lxc.init.cmd (LXC splits it on blanks, without quoting)` });
    }
    const entries = mapping.entries.flatMap((e) => (e.key !== 'lxc.init.cmd' ? [e] : bad >= 0 ? [] : [{ key: e.key, value: args.join(' ') }]));
    return { entries, degradations, ...(mapping.seccompPolicy === undefined ? {} : { seccompPolicy: mapping.seccompPolicy }) };
  };
}
