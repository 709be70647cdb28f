// Backend names → lazy factories. An unknown name is an error, never a fallback.
//
// `crun` has two meanings. For a new container it is "auto": the router resolves it to the first
// usable of crun-abi, crun-cli, runc (src/runtime/router.ts) and records that name. A record that
// already says `crun` (written before crun-abi existed) was made by the crun CLI: opening `crun`
// gives the crun CLI backend.
import { BackendUnavailableError, UnknownBackendError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
// availability (libcrun detection, ELF reading) is imported only when a backend is opened or
// auto-resolved: `state` and `list` never need it.
import type { ConcreteBackend, HostDetection } from './availability.js';
import type { Backend, BackendSettings } from './backend.js';

type Factory = (settings: BackendSettings) => Promise<Backend>;

const cli = (tool: 'crun' | 'runc', name: string): Factory => async (s) =>
  (await import('./oci-cli/oci-cli-backend.js')).createOciCliBackend(tool, name, s);

const factories: Record<string, Factory> = {
  crun: cli('crun', 'crun-cli'),
  'crun-abi': async (s) => {
    await assertUsable('crun-abi', s);
    const found = (await detectionFor(s)).libcrun.found!;
    return (await import('./libcrun/libcrun-backend.js')).createLibcrunBackend(found, s);
  },
  'crun-cli': cli('crun', 'crun-cli'),
  runc: cli('runc', 'runc'),
  lxc: async (s) => {
    await assertUsable('lxc', s);
    return (await import('./lxc/lxc-backend.js')).createLxcBackend(s);
  },
  pve: async (s) => {
    const { pveAvailability } = await import('./availability.js');
    const a = await pveAvailability(s.proxmox, process.env);
    if (!a.usable) throw new BackendUnavailableError(`backend pve is not usable: ${a.reason}`);
    const { createPveBackend, proxmoxDefaults } = await import('./pve/pve-settings.js');
    const { loadMapOciToLxc } = await import('./pve/lxc-mapping-link.js');
    return createPveBackend(s.proxmox ?? proxmoxDefaults(), s.root, await loadMapOciToLxc());
  },
};

export const BACKEND_NAMES: readonly string[] = Object.keys(factories);

/** The name that means "choose for me" when a new container is routed. */
export const AUTO_BACKEND = 'crun';

/** Every backend but the auto name: what `version` and `doctor` report on. */
export const CONCRETE_BACKENDS: readonly string[] = BACKEND_NAMES.filter((n) => n !== AUTO_BACKEND);

/**
 * One backend for each kind of state a backend keeps under berth's root (crun and crun-abi keep
 * crun-cli's): what a container whose record is unreadable is removed through.
 */
export const STATE_KEEPERS: readonly string[] = ['crun-cli', 'runc', 'lxc', 'pve'];

export function assertKnownBackend(name: string): void {
  if (!Object.hasOwn(factories, name)) throw new UnknownBackendError(name, BACKEND_NAMES, didYouMean(name, BACKEND_NAMES));
}

export async function detectionFor(settings: BackendSettings, env: NodeJS.ProcessEnv = process.env): Promise<HostDetection> {
  const { hostDetection } = await import('./availability.js');
  return hostDetection({ env, libcrunPath: settings.libcrunPath, crunBinary: settings.crunBinaryPath, crunBinaryKey: settings.crunBinaryKey, runcBinary: settings.runcBinaryPath });
}

/** A forced backend that this host cannot use is an error naming why, never a switch to another. */
async function assertUsable(name: ConcreteBackend, settings: BackendSettings): Promise<void> {
  const a = (await detectionFor(settings)).backends[name];
  if (!a.usable) throw new BackendUnavailableError(`backend ${name} is not usable: ${a.reason}`);
}

export async function openBackend(name: string, settings: BackendSettings): Promise<Backend> {
  assertKnownBackend(name);
  return factories[name]!(settings);
}
