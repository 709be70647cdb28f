// Credentials from auth files (auth-file.ts) and the retry rules (retry.ts): the file order,
// the key forms, the most specific entry, bad files; which answers are tried again and how long
// the waits are.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InvalidArgumentError } from '../../../src/core/errors.js';
import { authFiles, credentialsFromFiles, normalizeAuthKey } from '../../../src/images/registry/auth-file.js';
import { retryAfterMs, retryDelay, retryableError, retryableStatus } from '../../../src/images/registry/retry.js';
import { parseReference } from '../../../src/images/registry/reference.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-auth-file-');
after(() => tmp.remove());
const b64 = (s: string) => Buffer.from(s).toString('base64');

function authFile(name: string, auths: Record<string, unknown>): string {
  const path = join(tmp.path, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify({ auths }));
  return path;
}

describe('credentials from auth files', () => {
  test('the order: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json', () => {
    assert.deepEqual(authFiles({ REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/user/0', HOME: '/home/u' }), ['/a.json', '/run/user/0/containers/auth.json', '/home/u/.docker/config.json']);
    assert.deepEqual(authFiles({ HOME: '/home/u' }), ['/home/u/.docker/config.json']);
  });

  test('key forms: host, host:port, URLs with /v1/, Docker Hub spellings', () => {
    assert.equal(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeAuthKey('registry-1.docker.io'), 'docker.io');
    assert.equal(normalizeAuthKey('http://127.0.0.1:5000/'), '127.0.0.1:5000');
    assert.equal(normalizeAuthKey('quay.io/org/app'), 'quay.io/org/app');
  });

  test('the first file with an entry wins; the most specific key in it; identitytoken', () => {
    const home = join(tmp.path, 'home');
    authFile('home/.docker/config.json', { 'https://127.0.0.1:5000/v1/': { auth: b64('docker-user:d:pw') }, 'other.example': { identitytoken: 'refresh-me' } });
    const first = authFile('first.json', { '127.0.0.1:5000/team': { auth: b64('team-user:tpw') }, '127.0.0.1:5000': { auth: b64('host-user:hpw') } });
    const env = { HOME: home, REGISTRY_AUTH_FILE: first };
    assert.deepEqual(credentialsFromFiles('127.0.0.1:5000', 'team/app', env), { username: 'team-user', password: 'tpw', source: first });
    assert.deepEqual(credentialsFromFiles('127.0.0.1:5000', 'solo/app', env), { username: 'host-user', password: 'hpw', source: first });
    assert.deepEqual(credentialsFromFiles('127.0.0.1:5000', 'solo/app', { HOME: home }), { username: 'docker-user', password: 'd:pw', source: join(home, '.docker/config.json') });
    assert.deepEqual(credentialsFromFiles('other.example', 'x', { HOME: home }), { username: '', password: '', identityToken: 'refresh-me', source: join(home, '.docker/config.json') });
    assert.equal(credentialsFromFiles('nowhere.example', 'x', env), undefined);
    assert.equal(credentialsFromFiles('127.0.0.1:5000', 'x', { HOME: join(tmp.path, 'no-home') }), undefined);
  });

  test('a file that is not JSON, an auth that is not USER:PASS: errors naming the file, never the secret', () => {
    const broken = join(tmp.path, 'broken.json');
    writeFileSync(broken, '{ "auths": ');
    assert.throws(() => credentialsFromFiles('h.example', 'x', { REGISTRY_AUTH_FILE: broken, HOME: tmp.path }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(broken));
    const bad = authFile('bad.json', { 'h.example': { auth: b64('no-colon-secret') } });
    assert.throws(() => credentialsFromFiles('h.example', 'x', { REGISTRY_AUTH_FILE: bad, HOME: tmp.path }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(bad) && !e.message.includes('no-colon-secret'));
  });
});

describe('retries', () => {
  test('429 and 5xx are tried again, 4xx are not; resets and timeouts are, refusals are not', () => {
    for (const s of [429, 500, 502, 503, 504]) assert.ok(retryableStatus(s), String(s));
    for (const s of [200, 206, 400, 401, 403, 404, 416]) assert.ok(!retryableStatus(s), String(s));
    assert.ok(retryableError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    assert.ok(retryableError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })));
    assert.ok(retryableError(new Error('wrapped', { cause: Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) })));
    assert.ok(!retryableError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  });

  test('backoff doubles within a cap, jittered; Retry-After (seconds or a date) wins, bounded', () => {
    assert.equal(retryDelay(1, undefined, () => 0), 100);
    assert.equal(retryDelay(1, undefined, () => 1), 200);
    assert.equal(retryDelay(3, undefined, () => 1), 800);
    assert.equal(retryDelay(20, undefined, () => 1), 5000);
    assert.equal(retryDelay(1, '2'), 2000);
    assert.equal(retryDelay(1, '3600'), 30_000);
    assert.equal(retryAfterMs(new Date(Date.now() + 5000).toUTCString())! > 3000, true);
    assert.equal(retryAfterMs('soon'), undefined);
  });
});

describe('a configured default registry', () => {
  test('takes short names; library/ only for Docker Hub', () => {
    assert.deepEqual(parseReference('app:1', '127.0.0.1:5000'), { registry: '127.0.0.1:5000', repository: 'app', tag: '1', digest: undefined });
    assert.deepEqual(parseReference('org/app', 'registry.example'), { registry: 'registry.example', repository: 'org/app', tag: 'latest', digest: undefined });
    assert.equal(parseReference('alpine', 'docker.io').repository, 'library/alpine');
    assert.equal(parseReference('quay.io/org/app', '127.0.0.1:5000').registry, 'quay.io');
  });
});
