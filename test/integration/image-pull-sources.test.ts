// Where a pull goes and how it survives faults, against Debian's docker-registry on loopback:
// [registries] default (a short name), insecure (plain http without --tls-verify=false),
// mirrors (a second registry serving the image while the origin is down, and the origin when the
// mirror is down); a fault proxy in front of the registry (a 503 with Retry-After, a layer cut
// after N bytes: resumed with Range, not fetched twice; a pull that gives up keeps the partial
// blob and the next one resumes it); --digest-only and the recorded source in ls/inspect;
// create/run --pull missing|always|never.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { freePort } from '../helpers/daemon.js';
import { missing } from '../helpers/host.js';
import { buildOciLayout, busyboxLayerDir, type BuiltLayout } from '../helpers/oci-image.js';
import { skopeoWith, startRegistry, type Registry } from '../helpers/registry.js';

const skip = missing('docker-registry', 'skopeo', 'busybox');
const tmp = tempDir('berth-pull-sources-');
const storageDir = join(tmp.path, 'storage');
const stateDir = join(tmp.path, 'state');
const root = join(tmp.path, 'root');
const { skopeo, rawManifest, registryDigest } = skopeoWith(tmp.path);
const registries: Registry[] = [];

/** A config file with this [registries] table (TOML lines). */
function configWith(name: string, registriesToml: string): string {
  const file = join(tmp.path, `${name}.toml`);
  writeFileSync(file, `default_runtime = "crun-cli"\n\n[storage]\ndriver = "dir"\ndir = "${storageDir}"\nstate_dir = "${stateDir}"\n\n[registries]\n${registriesToml}\n`);
  return file;
}
const run = (config: string, ...args: string[]) => berth(['--root', root, '--config', config, ...args], { timeoutMs: 120_000 });

interface Fault {
  /** Answer the next manifest GETs with 503 + Retry-After: 1. */
  unavailable: number;
  /** Cut this many responses of the layer after `cutAfter` bytes of body. */
  cuts: number;
  cutAfter: number;
}

/** A proxy in front of a registry that injects faults and counts what it sends of one blob. */
class FaultProxy {
  server: Server;
  host = '';
  fault: Fault = { unavailable: 0, cuts: 0, cutAfter: 0 };
  blob = '';
  bytesOfBlob = 0;
  ranges: string[] = [];
  manifestGets = 0;
  served503 = 0;

  constructor(private readonly upstream: string) {
    this.server = createServer((req, res) => {
      const isBlob = this.blob !== '' && req.method === 'GET' && (req.url ?? '').endsWith(`/blobs/${this.blob}`);
      if (req.method === 'GET' && (req.url ?? '').includes('/manifests/')) {
        this.manifestGets++;
        if (this.fault.unavailable > 0) {
          this.fault.unavailable--;
          this.served503++;
          res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('busy');
          return;
        }
      }
      if (isBlob) this.ranges.push(String(req.headers.range ?? ''));
      const [h, p] = this.upstream.split(':');
      const up = request({ host: h, port: Number(p), method: req.method, path: req.url, headers: { ...req.headers, host: this.upstream } }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const cut = isBlob && this.fault.cuts > 0 ? (this.fault.cuts--, this.fault.cutAfter) : Infinity;
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= cut) return;
          const part = sent + chunk.length > cut ? chunk.subarray(0, cut - sent) : chunk;
          sent += part.length;
          if (isBlob) this.bytesOfBlob += part.length;
          if (sent >= cut) {
            upRes.destroy();
            res.write(part, () => res.socket?.destroy());
          } else res.write(part);
        });
        upRes.on('end', () => res.end());
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
}

let origin: Registry;
let image: BuiltLayout;
const LAYER_SIZE = 3 * 1024 * 1024;
const REPOS = ['src', 'mirrored', 'pol', 'fault', 'pin', 'resume'];

before(async () => {
  if (skip) return;
  mkdirSync(join(tmp.path, 'img'));
  // Runnable images with a large incompressible layer (the one the fault proxy cuts), the same
  // layers in all; one image per repository (a label tells them apart), so each test's pull is
  // not a cache hit of another's.
  const rootfs = busyboxLayerDir(join(tmp.path, 'rootfs'));
  const blob = randomBytes(LAYER_SIZE);
  image = await buildOciLayout(join(tmp.path, 'img'), {
    images: REPOS.map((repo) => ({
      tag: repo,
      config: { Cmd: ['sh', '-c', 'echo from-pulled; wc -c < /data/blob'], Env: ['PATH=/bin'], Labels: { repo } },
      layers: [
        { dir: rootfs, compression: 'gzip' as const },
        { entries: [{ name: 'data/blob', content: blob }], compression: 'gzip' as const },
      ],
    })),
  });
  origin = await startRegistry(tmp.path, 'origin');
  registries.push(origin);
  for (const repo of REPOS.filter((r) => r !== 'mirrored')) skopeo('copy', '--dest-tls-verify=false', `oci:${image.layout}:${repo}`, `docker://${origin.host}/${repo}/app:1`);
});

after(async () => {
  for (const r of registries) await r.daemon.stop();
  tmp.remove();
});

function bigLayer(ref: string): { digest: string; size: number } {
  const m = JSON.parse(rawManifest(ref).toString('utf8')) as { layers: Array<{ digest: string; size: number }> };
  return m.layers.reduce((a, b) => (b.size > a.size ? b : a));
}

async function imageJson(config: string, ref: string): Promise<{ digest: string; refs: string[]; source: { ref: string; digest: string; pulled: string; mirror?: string } | null }> {
  const r = await run(config, 'image', 'inspect', ref);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('[registries]: default, insecure, mirrors', { skip }, () => {
  test('a short name goes to the configured default registry; insecure lets it speak plain http without --tls-verify=false', async () => {
    const verified = configWith('default-only', `default = "${origin.host}"`);
    let r = await run(verified, 'image', 'pull', 'src/app:1');
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot reach registry ${origin.host} \\(https:`));
    const config = configWith('default', `default = "${origin.host}"\ninsecure = ["${origin.host}"]`);
    r = await run(config, 'image', 'pull', 'src/app:1');
    assert.equal(r.code, 0, r.stderr);
    const digest = registryDigest(`${origin.host}/src/app:1`);
    assert.match(r.stdout, new RegExp(`^pulled ${origin.host}/src/app:1 ${digest} `));
    const info = await imageJson(config, `${origin.host}/src/app:1`);
    assert.equal(info.digest, digest);
    assert.equal(info.source?.ref, `${origin.host}/src/app:1`);
  });

  test('a mirror serves the image while the origin is down; a mirror that is down falls back to the origin', async () => {
    const mirror = await startRegistry(tmp.path, 'mirror');
    registries.push(mirror);
    const downPort = await freePort();
    const down = `127.0.0.1:${downPort}`;
    skopeo('copy', '--dest-tls-verify=false', `oci:${image.layout}:mirrored`, `docker://${mirror.host}/mirrored/app:1`);
    const config = configWith('mirrors', `mirrors = { "${down}" = ["${mirror.host}"], "${origin.host}" = ["${down}"] }\ninsecure = ["${down}", "${mirror.host}", "${origin.host}"]`);
    let r = await run(config, 'image', 'pull', `${down}/mirrored/app:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^(pulled|already cached) ${down}/mirrored/app:1 ${registryDigest(`${mirror.host}/mirrored/app:1`)} `));
    const info = await imageJson(config, `${down}/mirrored/app:1`);
    assert.equal(info.source?.mirror, mirror.host);
    assert.ok(mirror.daemon.output().includes('"GET /v2/mirrored/app/manifests/1'), 'the mirror served the manifest');
    // The origin's own mirror is down: a warning, then the origin.
    const before = origin.daemon.output().split('\n').filter((l) => l.includes('"GET /v2/src/app/manifests/1')).length;
    r = await run(config, 'image', 'pull', `${origin.host}/src/app:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`mirror ${down} of ${origin.host} did not serve`));
    assert.ok(origin.daemon.output().split('\n').filter((l) => l.includes('"GET /v2/src/app/manifests/1')).length > before, 'the origin served it');
    // Neither reachable: the origin's error.
    const config2 = configWith('mirrors-down', `mirrors = { "${down}" = ["127.0.0.1:${await freePort()}"] }\ninsecure = ["${down}"]`);
    r = await run(config2, 'image', 'pull', `${down}/mirrored/app:2`);
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot reach registry ${down}`));
  });
});

describe('transfer faults through a proxy', { skip }, () => {
  let proxy: FaultProxy;
  before(async () => {
    if (skip) return;
    proxy = new FaultProxy(origin.host);
    await proxy.start();
  });
  after(() => new Promise<void>((resolve) => (proxy ? proxy.server.close(() => resolve()) : resolve())));

  test('a 503 with Retry-After is waited out; a layer cut after N bytes resumes with Range: bytes=N-, about its size sent in all', async () => {
    const config = configWith('proxy', `insecure = ["${proxy.host}"]`);
    const layer = bigLayer(`${origin.host}/fault/app:1`);
    assert.ok(layer.size > LAYER_SIZE * 0.9, `the big layer is ${layer.size} bytes`);
    // Brought by the earlier tests' pulls: removed from the blob store (a download cache) so that it is fetched.
    rmSync(join(stateDir, 'images/blobs/sha256', layer.digest.slice(7)), { force: true });
    proxy.blob = layer.digest;
    proxy.fault = { unavailable: 1, cuts: 1, cutAfter: Math.floor(layer.size / 3) };
    const started = Date.now();
    const r = await run(config, 'image', 'pull', `${proxy.host}/fault/app:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.served503, 1);
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After: 1');
    assert.equal(proxy.ranges.length, 2, `two GETs of the layer: ${JSON.stringify(proxy.ranges)}`);
    assert.equal(proxy.ranges[0], '');
    const cutAfter = Math.floor(layer.size / 3);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(proxy.ranges[1]!)?.[1]);
    // At the cut, less at most a few chunks the client had buffered but not written.
    assert.ok(resumedAt > 0 && resumedAt <= cutAfter && resumedAt >= cutAfter - 256 * 1024, `resumed at ${proxy.ranges[1]}, cut after ${cutAfter}`);
    assert.equal(proxy.bytesOfBlob, cutAfter + (layer.size - resumedAt));
    assert.ok(proxy.bytesOfBlob < layer.size + 256 * 1024, `${proxy.bytesOfBlob} bytes sent for a ${layer.size}-byte layer: about its size, not twice it`);
    assert.equal(existsSync(join(stateDir, 'images/blobs/sha256', layer.digest.slice(7))), true);
    const out = await run(config, 'run', '--image', `${proxy.host}/fault/app:1`, 'from-proxy');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `from-pulled\n${LAYER_SIZE}\n`);
  });

  test('a pull that gives up keeps the partial blob; the next pull resumes it and verifies the whole', async () => {
    const config = configWith('proxy-resume', `insecure = ["${proxy.host}"]`);
    const ref = `${proxy.host}/resume/app:1`;
    // The layer fault/app brought: removed from the blob store so that it is fetched again.
    const layer = bigLayer(`${origin.host}/resume/app:1`);
    const stored = join(stateDir, 'images/blobs/sha256', layer.digest.slice(7));
    rmSync(stored);
    proxy.blob = layer.digest;
    proxy.ranges = [];
    proxy.bytesOfBlob = 0;
    proxy.fault = { unavailable: 0, cuts: 5, cutAfter: 100_000 };
    let r = await run(config, 'image', 'pull', ref);
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /broke off after \d+ of \d+ bytes .*pull again to resume it/);
    const partial = join(stateDir, 'images/partial', `sha256-${layer.digest.slice(7)}`);
    const kept = statSync(partial).size;
    // What the proxy let through, less what the client had buffered but not written when the
    // connection broke (Node drops a destroyed stream's buffer): some of it, at most all.
    assert.ok(kept > 0 && kept <= 500_000, `kept ${kept} bytes`);
    assert.equal(proxy.ranges.length, 5);
    proxy.ranges = [];
    proxy.bytesOfBlob = 0;
    r = await run(config, 'image', 'pull', ref);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(proxy.ranges, [`bytes=${kept}-`]);
    assert.equal(proxy.bytesOfBlob, layer.size - kept);
    assert.equal(existsSync(partial), false);
    assert.equal(statSync(stored).size, layer.size);
  });
});

describe('--digest-only and the recorded source', { skip }, () => {
  test('a tag is refused naming the digest to pull; by that digest it pulls; ls and inspect show the source', async () => {
    const config = configWith('pin', `insecure = ["${origin.host}"]`);
    const tagRef = `${origin.host}/pin/app:1`;
    const digest = registryDigest(tagRef);
    let r = await run(config, 'image', 'pull', tagRef, '--digest-only');
    assert.equal(r.code, 3, r.stderr);
    assert.ok(r.stderr.includes(`--digest-only refuses the tag ${tagRef}: pull by digest: ${origin.host}/pin/app@${digest}`), r.stderr);
    const pinned = `${origin.host}/pin/app@${digest}`;
    r = await run(config, 'image', 'pull', pinned, '--digest-only');
    assert.equal(r.code, 0, r.stderr);
    const info = await imageJson(config, pinned);
    assert.equal(info.source?.ref, pinned);
    assert.equal(info.source?.digest, digest);
    assert.ok(Math.abs(Date.parse(info.source!.pulled) - Date.now()) < 120_000, info.source!.pulled);
    const ls = await run(config, 'image', 'ls');
    assert.match(ls.stdout.split('\n')[0]!, /CONTAINERS\s+SOURCE\s+PULLED$/);
    assert.ok(ls.stdout.split('\n').some((l) => l.includes(pinned) && /\d+s ago$/.test(l)), ls.stdout);
    const json = JSON.parse((await run(config, 'image', 'ls', '--format', 'json')).stdout) as Array<{ source: unknown }>;
    assert.ok(json.every((i) => 'source' in i));
    const digestOnly = configWith('pin-config', `insecure = ["${origin.host}"]\ndigest_only = true`);
    r = await run(digestOnly, 'image', 'pull', tagRef);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\[registries\] digest_only refuses the tag/);
  });
});

describe('create/run --pull', { skip }, () => {
  test('never: not cached is exit 4 naming image pull; the default for a registry ref pulls; always asks the registry again', async () => {
    const config = configWith('policy', `insecure = ["${origin.host}"]\ndefault = "${origin.host}"`);
    const ref = `${origin.host}/pol/app:1`;
    let r = await run(config, 'run', '--image', ref, '--pull', 'never', 'pol-never');
    assert.equal(r.code, 4, r.stderr);
    assert.ok(r.stderr.includes(`--pull never forbids pulling it: pull it first with: berth image pull ${ref}`), r.stderr);
    r = await run(config, 'run', '--image', ref, '--pull', 'sometimes', 'pol-bad');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--pull takes missing, always, never/);
    const gets = () => origin.daemon.output().split('\n').filter((l) => l.includes('"GET /v2/pol/app/manifests/1')).length;
    const before = gets();
    r = await run(config, 'run', '--image', ref, 'pol-default');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `from-pulled\n${LAYER_SIZE}\n`);
    assert.equal(gets(), before + 1, 'pulled once');
    r = await run(config, 'run', '--image', ref, 'pol-missing');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gets(), before + 1, 'cached: no registry request');
    r = await run(config, 'run', '--image', ref, '--pull', 'always', 'pol-always');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gets(), before + 2, 'always: the registry asked again');
    // A short name is the cached image under the default registry's name, without a pull.
    r = await run(config, 'run', '--image', 'pol/app:1', 'pol-short');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gets(), before + 2);
  });
});

describe('image push', { skip }, () => {
  test('a pulled image goes to another repository with the same digest (skopeo inspect agrees); again sends no blob; an imported image is refused', async () => {
    const config = configWith('push', `insecure = ["${origin.host}"]`);
    const from = `${origin.host}/src/app:1`;
    const r0 = await run(config, 'image', 'pull', from);
    assert.equal(r0.code, 0, r0.stderr);
    const digest = registryDigest(from);
    const dest = `${origin.host}/pushed/app:2`;
    let r = await run(config, 'image', 'push', from, dest);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `pushed ${dest} ${digest} (3 of 3 blobs sent)\n`);
    assert.equal(registryDigest(dest), digest);
    const inspected = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${dest}`)) as { Digest: string; Labels: Record<string, string>; Layers: string[] };
    assert.equal(inspected.Digest, digest);
    assert.equal(inspected.Labels.repo, 'src');
    assert.equal(inspected.Layers.length, 2);
    r = await run(config, 'image', 'push', from, dest);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(0 of 3 blobs sent\)$/m);
    // What skopeo pulls back runs through berth's own pull as the same image.
    r = await run(config, 'image', 'pull', dest);
    assert.match(r.stdout, new RegExp(`^already cached ${dest} ${digest} `));

    mkdirSync(join(tmp.path, 'local'));
    const local = await buildOciLayout(join(tmp.path, 'local'), { images: [{ tag: 'l', layers: [{ entries: [{ name: 'etc/local', content: 'local\n' }], compression: 'gzip' }] }] });
    assert.equal((await run(config, 'image', 'import', local.layout, '--name', 'local-only')).code, 0);
    r = await run(config, 'image', 'push', 'local-only', `${origin.host}/pushed/local:1`);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /has no stored manifest and blobs: .*imported from an OCI layout.*skopeo copy oci:DIR/);
    r = await run(config, 'image', 'push', from);
    assert.equal(r.code, 2, r.stderr);
  });

  test('to a registry with htpasswd auth: no credentials exit 9; with --creds the upload authenticates (POST, PUT) and skopeo reads it back', { skip: missing('htpasswd') }, async () => {
    const file = join(tmp.path, 'push-htpasswd');
    writeFileSync(file, execFileSync('htpasswd', ['-Bbn', 'pusher', 'Push-pw-1'], { encoding: 'utf8' }));
    const secure = await startRegistry(tmp.path, 'push-secure', { htpasswd: file });
    registries.push(secure);
    const config = configWith('push-secure', `insecure = ["${origin.host}", "${secure.host}"]`);
    const from = `${origin.host}/src/app:1`;
    const dest = `${secure.host}/team/app:1`;
    let r = await run(config, 'image', 'push', from, dest);
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /needs credentials/);
    r = await run(config, 'image', 'push', from, dest, '--creds', 'pusher:Push-pw-1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(3 of 3 blobs sent\)/);
    assert.equal(registryDigest(dest, '--creds', 'pusher:Push-pw-1'), registryDigest(from));
  });
});
