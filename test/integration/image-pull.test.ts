// berth image pull against a real registry: Debian's docker-registry (distribution 2.8) on
// 127.0.0.1 with its own config and storage in a temp dir, loaded by skopeo from OCI layouts the
// test builds. Pull by tag and by digest (the digest is skopeo's), a run from the pulled image,
// shared layers not fetched twice (counted in the registry's access log), a two-platform index,
// a missing tag, a corrupted blob, plain http without --tls-verify=false, and htpasswd (bcrypt)
// basic auth with no, wrong and right credentials — with a debug log free of the password.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, sign, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth } from '../helpers/berth.js';
import { tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { buildOciLayout, busyboxLayerDir, ociArch, type BuiltLayout } from '../helpers/oci-image.js';
import { skopeoWith, startRegistry as startRegistryIn, type Registry, type RegistryAuth } from '../helpers/registry.js';

const skip = missing('docker-registry', 'skopeo', 'htpasswd', 'busybox');
const tmp = tempDir('berth-image-pull-');
const storageDir = join(tmp.path, 'storage');
const stateDir = join(tmp.path, 'state');
const root = join(tmp.path, 'root');
const config = join(tmp.path, 'config.toml');
writeFileSync(config, `default_runtime = "crun-cli"\n\n[storage]\ndriver = "dir"\ndir = "${storageDir}"\nstate_dir = "${stateDir}"\n`);
const run = (...args: string[]) => berth(['--root', root, '--config', config, ...args], { timeoutMs: 120_000 });

const registries: Registry[] = [];
const { skopeo, rawManifest, registryDigest } = skopeoWith(tmp.path);

async function startRegistry(name: string, authBy?: RegistryAuth, dataDir?: string): Promise<Registry> {
  const reg = await startRegistryIn(tmp.path, name, authBy, dataDir);
  registries.push(reg);
  return reg;
}

/** The digest of one platform's manifest in the index the registry has (`skopeo inspect --raw`). */
function indexEntry(ref: string, architecture: string): string {
  const index = JSON.parse(rawManifest(ref).toString('utf8')) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
  const found = index.manifests.filter((m) => m.platform.architecture === architecture);
  assert.equal(found.length, 1, `one ${architecture} entry in ${JSON.stringify(index)}`);
  return found[0]!.digest;
}

function leftovers(): string[] {
  const dir = join(stateDir, 'images', 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
}

const other = ociArch() === 'arm64' ? 'amd64' : 'arm64';
let reg: Registry;
let two: BuiltLayout;
let multi: BuiltLayout;

before(async () => {
  if (skip) return;
  const rootfs = busyboxLayerDir(join(tmp.path, 'rootfs'));
  mkdirSync(join(tmp.path, 'two'));
  // Two images sharing their first (busybox) layer; the second layer is each one's own.
  two = await buildOciLayout(join(tmp.path, 'two'), {
    images: ['a', 'b'].map((t) => ({
      tag: t,
      config: { Cmd: ['sh', '-c', `cat /etc/which; echo from-${t}`], Env: ['PATH=/bin'] },
      layers: [{ dir: rootfs, compression: 'gzip' as const }, { entries: [{ name: 'etc/which', content: `image ${t}\n` }], compression: 'gzip' as const }],
    })),
  });
  mkdirSync(join(tmp.path, 'multi'));
  multi = await buildOciLayout(join(tmp.path, 'multi'), {
    nested: true,
    images: [ociArch(), other].map((architecture) => ({ platform: { os: 'linux', architecture }, layers: [{ entries: [{ name: `etc/arch-${architecture}`, content: architecture }], compression: 'gzip' as const }] })),
  });
  // skopeo's oci:DIR:TAG finds the nested index by its tag.
  const index = JSON.parse(readFileSync(join(multi.layout, 'index.json'), 'utf8')) as { manifests: Array<Record<string, unknown>> };
  index.manifests[0]!.annotations = { 'org.opencontainers.image.ref.name': 'multi' };
  writeFileSync(join(multi.layout, 'index.json'), JSON.stringify(index));

  reg = await startRegistry('open');
  for (const t of ['a', 'b']) skopeo('copy', '--dest-tls-verify=false', `oci:${two.layout}:${t}`, `docker://${reg.host}/pull/app:${t}`);
  skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${multi.layout}:multi`, `docker://${reg.host}/pull/multi:1`);
});

after(async () => {
  await run('delete', '--force', 'pulled-a');
  for (const r of registries) await r.daemon.stop();
  tmp.remove();
});

describe('berth image pull from docker-registry', { skip }, () => {
  test('by tag: the digest skopeo reports, shown by ls and inspect, and a container runs from it', async () => {
    const ref = `${reg.host}/pull/app:a`;
    const digest = registryDigest(ref);
    const r = await run('image', 'pull', ref, '--tls-verify=false');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^pulled ${ref} ${digest} `));
    const ls = await run('image', 'ls');
    assert.match(ls.stdout, new RegExp(`^${ref.replace(/[.]/g, '\\.')}\\s+${digest.slice(7, 19)}\\s`, 'm'));
    const inspect = JSON.parse((await run('image', 'inspect', ref)).stdout) as { digest: string; refs: string[] };
    assert.equal(inspect.digest, digest);
    assert.deepEqual(inspect.refs, [ref]);
    const out = await run('run', '--image', ref, 'pulled-a');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'image a\nfrom-a\n');
    assert.deepEqual(leftovers(), []);
  });

  test('a second image sharing a layer: the shared layer is not fetched again; the same image again fetches nothing', async () => {
    const shared = two.layers[1]![0]!.digest;
    assert.equal(shared, two.layers[0]![0]!.digest, 'the test images share their first layer');
    const own = two.layers[1]![1]!.digest;
    const before = reg.blobGets(shared);
    assert.equal(before, 1, 'the first pull fetched the shared layer once');
    const r = await run('image', 'pull', `${reg.host}/pull/app:b`, '--tls-verify=false');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reg.blobGets(shared), before, 'no GET of the shared layer');
    assert.equal(reg.blobGets(own), 1, "b's own layer fetched once");
    const again = await run('image', 'pull', `${reg.host}/pull/app:b`, '--tls-verify=false');
    assert.match(again.stdout, /^already cached /);
    assert.equal(reg.blobGets(own), 1);
  });

  test('by digest: @sha256: names the same image, recorded under its digest name', async () => {
    const digest = registryDigest(`${reg.host}/pull/app:a`);
    const ref = `${reg.host}/pull/app@${digest}`;
    const r = await run('image', 'pull', ref, '--tls-verify=false');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^already cached ${ref} ${digest} `));
    const inspect = JSON.parse((await run('image', 'inspect', ref)).stdout) as { digest: string; refs: string[] };
    assert.equal(inspect.digest, digest);
    assert.ok(inspect.refs.includes(ref) && inspect.refs.includes(`${reg.host}/pull/app:a`), inspect.refs.join(','));
  });

  test("an index of two platforms: the host's by default, --platform the other, an absent one listed", async () => {
    const ref = `${reg.host}/pull/multi:1`;
    const mine = indexEntry(ref, ociArch());
    const theirs = indexEntry(ref, other);
    assert.notEqual(mine, theirs);
    let r = await run('image', 'pull', ref, '--tls-verify=false');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(` ${mine} `));
    r = await run('image', 'pull', ref, '--tls-verify=false', '--platform', `linux/${other}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(` ${theirs} `));
    const inspect = JSON.parse((await run('image', 'inspect', theirs)).stdout) as { platform: { architecture: string } };
    assert.equal(inspect.platform.architecture, other);
    r = await run('image', 'pull', ref, '--tls-verify=false', '--platform', 'linux/s390x');
    assert.equal(r.code, 3);
    assert.match(r.stderr, new RegExp(`has no image for linux/s390x \\(it has: linux/${ociArch()}, linux/${other}\\); choose one with --platform`));
  });

  test('a missing tag, a bad reference, plain http without --tls-verify=false: clear errors, nothing cached', async () => {
    const count = (JSON.parse((await run('image', 'ls', '--format', 'json')).stdout) as unknown[]).length;
    let r = await run('image', 'pull', `${reg.host}/pull/app:nope`, '--tls-verify=false');
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`registry ${reg.host} has no manifest nope in pull/app \\(HTTP 404.*check the name and tag`));
    r = await run('image', 'pull', `${reg.host}/Pull/app`, '--tls-verify=false');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /upper-case letters in "Pull"/);
    r = await run('image', 'pull', `${reg.host}/pull/app:a`);
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /use --tls-verify=false/);
    assert.equal((JSON.parse((await run('image', 'ls', '--format', 'json')).stdout) as unknown[]).length, count);
    assert.deepEqual(leftovers(), []);
  });

  test('a blob the registry serves corrupted: a digest mismatch, no blob stored, no image cached', async () => {
    mkdirSync(join(tmp.path, 'bad'));
    const bad = await buildOciLayout(join(tmp.path, 'bad'), { images: [{ tag: 'x', layers: [{ entries: [{ name: 'etc/bad', content: randomBytes(8192) }], compression: 'gzip' }] }] });
    skopeo('copy', '--dest-tls-verify=false', `oci:${bad.layout}:x`, `docker://${reg.host}/pull/bad:x`);
    // The layer as the registry stores it (skopeo may recompress what it pushes).
    const layer = (JSON.parse(rawManifest(`${reg.host}/pull/bad:x`).toString('utf8')) as { layers: Array<{ digest: string }> }).layers[0]!.digest;
    const data = join(reg.dir, 'data/docker/registry/v2/blobs/sha256', layer.slice(7, 9), layer.slice(7), 'data');
    const bytes = readFileSync(data);
    const at = bytes.length - 600;
    bytes.writeUInt8(bytes[at]! ^ 0xff, at);
    writeFileSync(data, bytes);
    const r = await run('image', 'pull', `${reg.host}/pull/bad:x`, '--tls-verify=false');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`layer ${layer} from ${reg.host}/pull/bad:x: digest mismatch`));
    assert.equal(existsSync(join(stateDir, 'images/blobs/sha256', layer.slice(7))), false);
    const digest = registryDigest(`${reg.host}/pull/bad:x`);
    assert.equal(existsSync(join(storageDir, 'images', digest)), false);
    assert.equal((await run('image', 'inspect', digest)).code, 4);
    assert.deepEqual(leftovers(), []);
  });
});

describe('berth image pull with htpasswd basic auth', { skip }, () => {
  let secure: Registry;
  const password = 'S3cret-pw-for-berth';
  before(async () => {
    const file = join(tmp.path, 'htpasswd');
    writeFileSync(file, execFileSync('htpasswd', ['-Bbn', 'puller', password], { encoding: 'utf8' }));
    secure = await startRegistry('secure', { htpasswd: file });
    skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `puller:${password}`, `oci:${two.layout}:a`, `docker://${secure.host}/auth/app:a`);
  });

  test('no credentials and wrong ones: exit 9 naming --creds; right ones pull, and the debug log has no secret', async () => {
    const ref = `${secure.host}/auth/app:a`;
    let r = await run('image', 'pull', ref, '--tls-verify=false');
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /needs credentials .*--creds USER:PASSWORD/);
    r = await run('image', 'pull', ref, '--tls-verify=false', '--creds', 'puller:wrong-password');
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /refused the credentials .*HTTP 401.*check --creds/);
    const logFile = join(tmp.path, 'pull-debug.log');
    r = await berth(['--root', root, '--config', config, '--debug', '--log', logFile, 'image', 'pull', ref, '--tls-verify=false', '--creds', `puller:${password}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${registryDigest(ref, '--creds', `puller:${password}`)}`));
    const logged = readFileSync(logFile, 'utf8') + r.stderr;
    assert.match(logged, /GET http:\/\/127\.0\.0\.1:\d+\/v2\/auth\/app\/manifests\/a → 200/, 'the debug log shows the requests');
    assert.equal(logged.includes(password), false);
    assert.equal(logged.includes(Buffer.from(`puller:${password}`).toString('base64')), false);
  });
  test('credentials from auth files: skopeo login into $REGISTRY_AUTH_FILE, a docker config.json under $HOME; --creds wins; wrong ones exit 9 naming the file; none logged', async () => {
    const ref = `${secure.host}/auth/app:a`;
    const home = join(tmp.path, 'login-home');
    mkdirSync(home, { recursive: true });
    const env = (extra: Record<string, string>): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
      delete e.XDG_RUNTIME_DIR;
      if (!extra.REGISTRY_AUTH_FILE) delete e.REGISTRY_AUTH_FILE;
      return e;
    };
    const pull = (extra: Record<string, string>, ...args: string[]) => berth(['--root', root, '--config', config, ...args, 'image', 'pull', ref, '--tls-verify=false'], { env: env(extra), timeoutMs: 120_000 });
    // skopeo writes the file as podman login does.
    const authFile = join(tmp.path, 'skopeo-auth.json');
    skopeo('login', '--tls-verify=false', '--authfile', authFile, '-u', 'puller', '-p', password, secure.host);
    assert.ok(JSON.parse(readFileSync(authFile, 'utf8')).auths[secure.host], 'skopeo login wrote an entry for the host');
    const logFile = join(tmp.path, 'authfile-debug.log');
    let r = await pull({ REGISTRY_AUTH_FILE: authFile }, '--debug', '--log', logFile);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^(pulled|already cached) /);
    const logged = readFileSync(logFile, 'utf8') + r.stderr;
    assert.match(logged, /manifests\/a → 200/);
    assert.equal(logged.includes(password), false);
    assert.equal(logged.includes(Buffer.from(`puller:${password}`).toString('base64')), false);
    // docker's config.json, keyed as docker login writes a registry with a port: a URL.
    const wrong = { auths: { [`https://${secure.host}/v1/`]: { auth: Buffer.from('puller:not-the-password').toString('base64') } } };
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker/config.json'), JSON.stringify(wrong));
    r = await pull({});
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, new RegExp(`refused the credentials .*check the entry for ${secure.host.replace(/\./g, '\\.')} in ${join(home, '.docker/config.json').replace(/\./g, '\\.')} \\(or give --creds`));
    assert.equal(r.stderr.includes('not-the-password'), false);
    // --creds wins over the wrong file; $REGISTRY_AUTH_FILE comes before it.
    r = await berth(['--root', root, '--config', config, 'image', 'pull', ref, '--tls-verify=false', '--creds', `puller:${password}`], { env: env({}), timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    r = await pull({ REGISTRY_AUTH_FILE: authFile });
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join(home, '.docker/config.json'), JSON.stringify({ auths: { [`https://${secure.host}/v1/`]: { auth: Buffer.from(`puller:${password}`).toString('base64') } } }));
    r = await pull({});
    assert.equal(r.code, 0, r.stderr);
  });
});

/** A JWT as distribution's token auth verifies it/** A JWT as distribution's token auth verifies it: RS256, the signing cert in x5c, an access claim. */
function signToken(key: string, certDer: Buffer, repository: string): string {
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] });
  const claims = b64({ iss: 'berth-test-issuer', sub: 'puller', aud: 'berth-test', exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access: [{ type: 'repository', name: repository, actions: ['pull'] }] });
  return `${header}.${claims}.${sign('sha256', Buffer.from(`${header}.${claims}`), key).toString('base64url')}`;
}

describe('berth image pull with a bearer token service', { skip: skip ?? missing('openssl') }, () => {
  let tokened: Registry;
  let tokenServer: Server;
  const password = 'T0ken-service-pw';
  const issued: string[] = [];
  const asked: string[] = [];
  const posted: URLSearchParams[] = [];
  const refreshToken = 'refresh-Tok3n-for-berth';
  before(async () => {
    const dir = join(tmp.path, 'token');
    mkdirSync(dir);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=berth-token'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const der = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw;
    // The token service: checks the basic credentials, answers a token for the scope asked.
    tokenServer = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      asked.push(url.search);
      if (req.method === 'POST') {
        // The OAuth2 form docker's identity tokens use: a refresh_token grant.
        let text = '';
        for await (const c of req) text += String(c);
        const form = new URLSearchParams(text);
        posted.push(form);
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== refreshToken) {
          res.writeHead(401).end('{"details":"bad refresh token"}');
          return;
        }
        const token = signToken(key, der, /^repository:([^:]+):pull$/.exec(form.get('scope') ?? '')?.[1] ?? '');
        issued.push(token);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token }));
        return;
      }
      if (req.headers.authorization !== `Basic ${Buffer.from(`puller:${password}`).toString('base64')}`) {
        res.writeHead(401).end('{"details":"bad credentials"}');
        return;
      }
      const repository = /^repository:([^:]+):pull$/.exec(url.searchParams.get('scope') ?? '')?.[1] ?? '';
      const token = signToken(key, der, repository);
      issued.push(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const port = (tokenServer.address() as { port: number }).port;
    // Serves the open registry's storage: the images pushed there, behind token auth.
    tokened = await startRegistry('tokened', { token: { realm: `http://127.0.0.1:${port}/token`, cert: join(dir, 'cert.pem') } }, join(reg.dir, 'data'));
  });
  after(() => new Promise<void>((resolve) => (tokenServer ? tokenServer.close(() => resolve()) : resolve())));

  test('the challenge leads to the token service; wrong credentials exit 9; the token is never logged', async () => {
    const ref = `${tokened.host}/pull/app:b`;
    let r = await run('image', 'pull', ref, '--tls-verify=false', '--creds', 'puller:nope');
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /token service .* refused the credentials .*HTTP 401/);
    const logFile = join(tmp.path, 'token-debug.log');
    r = await berth(['--root', root, '--config', config, '--debug', '--log', logFile, 'image', 'pull', ref, '--tls-verify=false', '--creds', `puller:${password}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^already cached ${ref} ${registryDigest(`${reg.host}/pull/app:b`)} `));
    assert.ok(asked.some((q) => q.includes('service=berth-test') && q.includes('scope=repository%3Apull%2Fapp%3Apull')), asked.join(' '));
    assert.ok(issued.length >= 1);
    const logged = readFileSync(logFile, 'utf8') + r.stderr;
    assert.match(logged, /\(token\) → 200/);
    for (const t of issued) assert.equal(logged.includes(t), false, 'no token in the log');
    assert.equal(logged.includes(password), false);
  });

  test("an identitytoken in docker's config.json is posted as a refresh_token grant; never logged", async () => {
    const home = join(tmp.path, 'identity-home');
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker/config.json'), JSON.stringify({ auths: { [tokened.host]: { auth: '', identitytoken: refreshToken } } }));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.REGISTRY_AUTH_FILE;
    delete env.XDG_RUNTIME_DIR;
    const logFile = join(tmp.path, 'identity-debug.log');
    const r = await berth(['--root', root, '--config', config, '--debug', '--log', logFile, 'image', 'pull', `${tokened.host}/pull/app:a`, '--tls-verify=false'], { env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const form = posted.at(-1);
    assert.ok(form, 'the token service got a POST');
    assert.equal(form.get('service'), 'berth-test');
    assert.equal(form.get('scope'), 'repository:pull/app:pull');
    assert.equal(form.get('client_id'), 'berth');
    const logged = readFileSync(logFile, 'utf8') + r.stderr;
    assert.match(logged, /POST http:\/\/127\.0\.0\.1:\d+\/token \(token\) → 200/);
    assert.equal(logged.includes(refreshToken), false);
    for (const t of issued) assert.equal(logged.includes(t), false, 'no token in the log');
  });
});
