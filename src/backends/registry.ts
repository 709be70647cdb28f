// Backend names → lazy factories. An unknown name is an error, never a fallback.
import { UnknownBackendError } from '../core/errors.js';
import type { Backend, BackendSettings } from './backend.js';

type Factory = (settings: BackendSettings) => Promise<Backend>;

const factories: Record<string, Factory> = {
  crun: async (s) => (await import('./oci-cli/oci-cli-backend.js')).createOciCliBackend('crun', s),
  runc: async (s) => (await import('./oci-cli/oci-cli-backend.js')).createOciCliBackend('runc', s),
};

export const BACKEND_NAMES: readonly string[] = Object.keys(factories);

export function assertKnownBackend(name: string): void {
  if (!Object.hasOwn(factories, name)) throw new UnknownBackendError(name, BACKEND_NAMES);
}

export async function openBackend(name: string, settings: BackendSettings): Promise<Backend> {
  assertKnownBackend(name);
  return factories[name]!(settings);
}
