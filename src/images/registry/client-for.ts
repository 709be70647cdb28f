// The client for one endpoint of a registry (the registry itself or one of its mirrors): its
// credentials (--creds, else the auth files' entry for that host) and its TLS mode (--tls-verify,
// else [registries] insecure). Pull and push make their clients here.
import type { RegistriesConfig } from '../../core/config.js';
import { parseCredentials } from './auth.js';
import { credentialsFromFiles } from './auth-file.js';
import { RegistryClient } from './client.js';
import type { ImageReference } from './reference.js';

export interface EndpointOptions {
  creds?: string;
  tlsVerify?: boolean;
  push?: boolean;
}

/** A client for `endpoint` (the registry or one of its mirrors), with its credentials and TLS mode. */
export function clientFor(ref: ImageReference, endpoint: string, options: EndpointOptions, registries: RegistriesConfig): RegistryClient {
  // --creds wins; else the auth files' entry for this endpoint (a mirror has its own).
  const credentials = options.creds !== undefined ? parseCredentials(options.creds) : credentialsFromFiles(endpoint, ref.repository);
  const tlsVerify = options.tlsVerify ?? ((registries.insecure ?? []).includes(endpoint) ? false : undefined);
  return new RegistryClient({ ...ref, registry: endpoint }, { credentials, tlsVerify, push: options.push });
}

