// Debian's docker-registry (distribution 2.8) for tests: started on a free loopback port with its
// own config and storage under a test's temp dir (open, htpasswd or token auth), stopped by PID;
// and skopeo with a policy that accepts anything, to load and inspect it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startDaemon, type Daemon } from './daemon.js';
import { waitFor } from './wait.js';

export interface Registry {
  host: string;
  daemon: Daemon;
  dir: string;
  /** Access-log GETs of a blob so far. */
  blobGets(digest: string): number;
}

/** `auth:` of the registry's config: none, htpasswd (basic), or token (bearer). */
export type RegistryAuth = { htpasswd: string } | { token: { realm: string; cert: string } } | undefined;

/** Starts a registry in `parent`/`name`; `dataDir` shares another registry's storage. */
export async function startRegistry(parent: string, name: string, authBy?: RegistryAuth, dataDir?: string): Promise<Registry> {
  const dir = join(parent, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const auth = !authBy
    ? ''
    : 'htpasswd' in authBy
      ? `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${authBy.htpasswd}\n`
      : `auth:\n  token:\n    realm: ${authBy.token.realm}\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: ${authBy.token.cert}\n`;
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${dataDir ?? join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const daemon = startDaemon('docker-registry', ['serve', join(dir, 'config.yml')], join(dir, 'registry.log'));
  const host = `127.0.0.1:${port}`;
  await waitFor(`docker-registry on ${host}`, async () => {
    try {
      const res = await fetch(`http://${host}/v2/`);
      return res.status === 200 || res.status === 401 ? true : undefined;
    } catch {
      return undefined;
    }
  }, 20_000);
  return {
    host,
    daemon,
    dir,
    blobGets: (digest) => daemon.output().split('\n').filter((l) => l.includes(`"GET /v2/`) && l.includes(`/blobs/${digest} `)).length,
  };
}

/** skopeo with a policy file accepting any image (written into `dir`). */
export function skopeoWith(dir: string): { skopeo(...args: string[]): string; rawManifest(ref: string, ...extra: string[]): Buffer; registryDigest(ref: string, ...extra: string[]): string } {
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const rawManifest = (ref: string, ...extra: string[]): Buffer => execFileSync('skopeo', ['--policy', policy, 'inspect', '--raw', '--tls-verify=false', ...extra, `docker://${ref}`]);
  return {
    skopeo: (...args) => execFileSync('skopeo', ['--policy', policy, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    rawManifest,
    // The manifest digest as the registry has it: sha256 of `skopeo inspect --raw`.
    registryDigest: (ref, ...extra) => `sha256:${createHash('sha256').update(rawManifest(ref, ...extra)).digest('hex')}`,
  };
}
