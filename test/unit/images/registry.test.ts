// Registry pull's pure parts: references with Docker Hub's short names, credentials, the
// WWW-Authenticate challenge, the token answer, and platform selection from an index.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, ImageError } from '../../../src/core/errors.js';
import { basicHeader, parseChallenge, parseCredentials, tokenFrom, tokenUrl } from '../../../src/images/registry/auth.js';
import { manifestKind, selectPlatform } from '../../../src/images/registry/manifest-select.js';
import { apiHost, formatReference, isLoopbackHost, manifestReference, parseReference } from '../../../src/images/registry/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  const good: Array<[string, string, string, string | undefined, string | undefined]> = [
    // text, registry, repository, tag, digest
    ['alpine', 'docker.io', 'library/alpine', 'latest', undefined],
    ['alpine:3.19', 'docker.io', 'library/alpine', '3.19', undefined],
    ['library/alpine', 'docker.io', 'library/alpine', 'latest', undefined],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined],
    ['docker.io/alpine', 'docker.io', 'library/alpine', 'latest', undefined],
    ['index.docker.io/alpine:edge', 'docker.io', 'library/alpine', 'edge', undefined],
    ['index.docker.io/user/app', 'docker.io', 'user/app', 'latest', undefined],
    ['quay.io/prometheus/node-exporter:v1.7.0', 'quay.io', 'prometheus/node-exporter', 'v1.7.0', undefined],
    ['127.0.0.1:5000/app:1', '127.0.0.1:5000', 'app', '1', undefined],
    ['localhost/app', 'localhost', 'app', 'latest', undefined],
    ['localhost:5000/a/b/c', 'localhost:5000', 'a/b/c', 'latest', undefined],
    ['[::1]:5000/app', '[::1]:5000', 'app', 'latest', undefined],
    [`alpine@${D}`, 'docker.io', 'library/alpine', undefined, D],
    [`127.0.0.1:5000/app:1@${D}`, '127.0.0.1:5000', 'app', '1', D],
    ['my_org/my.app-x__y:Tag_1.0-rc', 'docker.io', 'my_org/my.app-x__y', 'Tag_1.0-rc', undefined],
  ];
  for (const [text, registry, repository, tag, digest] of good) {
    test(`parses ${text}`, () => {
      assert.deepEqual(parseReference(text), { registry, repository, tag, digest });
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['', /is empty/],
    ['has space', /is empty or has spaces/],
    ['Alpine', /upper-case letters in "Alpine"/],
    ['alpine:', /unusable tag ""/],
    ['alpine:-x', /unusable tag "-x"/],
    ['alpine@sha256:abc', /unusable digest "sha256:abc"/],
    ['alpine@md5:0123', /unusable digest/],
    ['127.0.0.1:5000/', /names no repository/],
    ['a//b', /unusable repository component ""/],
    ['-x/app', /unusable repository component "-x"/],
    ['bad_host.:5000/app', /unusable registry host/],
  ];
  for (const [text, message] of bad) {
    test(`refuses ${JSON.stringify(text)} naming the fix`, () => {
      assert.throws(() => parseReference(text), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.match(err.message, message);
        assert.match(err.message, /write \[REGISTRY\/\]REPO\[:TAG\] or REPO@sha256:DIGEST/);
        return true;
      });
    });
  }

  test('formats, the manifest reference, the API host, loopback', () => {
    assert.equal(formatReference(parseReference('alpine')), 'docker.io/library/alpine:latest');
    assert.equal(formatReference(parseReference(`127.0.0.1:5000/app@${D}`)), `127.0.0.1:5000/app@${D}`);
    assert.equal(manifestReference(parseReference(`app:1@${D}`)), D);
    assert.equal(manifestReference(parseReference('app:1')), '1');
    assert.equal(apiHost(parseReference('alpine')), 'registry-1.docker.io');
    assert.equal(apiHost(parseReference('quay.io/a/b')), 'quay.io');
    for (const h of ['127.0.0.1:5000', 'localhost', '127.1.2.3', '[::1]:80']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['quay.io', '10.0.0.1:5000', 'localhost.example.com']) assert.equal(isLoopbackHost(h), false, h);
  });
});

describe('registry auth', () => {
  test('credentials: the user before the first colon', () => {
    assert.deepEqual(parseCredentials('u:p:w'), { username: 'u', password: 'p:w' });
    assert.throws(() => parseCredentials('nocolon'), /--creds must be USER:PASSWORD/);
    assert.throws(() => parseCredentials(':p'), /--creds must be USER:PASSWORD/);
    assert.equal(basicHeader({ username: 'u', password: 'p' }), `Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  test('challenges: bearer with quoted params, basic, garbage', () => {
    const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"');
    assert.deepEqual(c, { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } });
    assert.deepEqual(parseChallenge('Basic realm="basic-realm"'), { scheme: 'basic', params: { realm: 'basic-realm' } });
    assert.deepEqual(parseChallenge('Bearer realm=http://x/t, service=reg'), { scheme: 'bearer', params: { realm: 'http://x/t', service: 'reg' } });
    assert.equal(parseChallenge(undefined), undefined);
    const url = tokenUrl(c!, 'repository:other:pull');
    assert.equal(url.origin + url.pathname, 'https://auth.docker.io/token');
    assert.equal(url.searchParams.get('service'), 'registry.docker.io');
    assert.equal(url.searchParams.get('scope'), 'repository:library/alpine:pull');
    assert.equal(tokenUrl({ scheme: 'bearer', params: { realm: 'http://t/' } }, 'repository:a:pull').searchParams.get('scope'), 'repository:a:pull');
    assert.throws(() => tokenUrl({ scheme: 'bearer', params: {} }, 's'), /named no realm/);
  });

  test('token answers: token or access_token', () => {
    assert.equal(tokenFrom({ token: 't1' }), 't1');
    assert.equal(tokenFrom({ access_token: 't2' }), 't2');
    assert.equal(tokenFrom({ token: '', access_token: 't3' }), 't3');
    assert.equal(tokenFrom({}), undefined);
    assert.equal(tokenFrom('x'), undefined);
  });
});

describe('platform selection from an index', () => {
  const m = (architecture: string, variant?: string, digest = D) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 10, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const index = { schemaVersion: 2, manifests: [m('amd64'), m('arm64', 'v8', `sha256:${'b'.repeat(64)}`), m('arm', 'v7', `sha256:${'c'.repeat(64)}`), m('arm', 'v6', `sha256:${'d'.repeat(64)}`)] };

  test('picks the wanted platform; a variant when asked', () => {
    assert.equal(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'x').digest, D);
    assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'x').digest, `sha256:${'b'.repeat(64)}`);
    assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'x').digest, `sha256:${'d'.repeat(64)}`);
  });
  test('no match lists the platforms; two matches ask for the variant', () => {
    assert.throws(() => selectPlatform(index, { os: 'linux', architecture: 's390x' }, 'the index'), (err: unknown) => {
      assert.ok(err instanceof ImageError);
      assert.equal(err.message, 'the index has no image for linux/s390x (it has: linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6); choose one with --platform');
      return true;
    });
    assert.throws(() => selectPlatform(index, { os: 'linux', architecture: 'arm' }, 'the index'), /has 2 images for linux\/arm .*--platform OS\/ARCH\/VARIANT/);
  });
  test('kinds by mediaType or Content-Type', () => {
    assert.equal(manifestKind({ mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }, ''), 'index');
    assert.equal(manifestKind({ schemaVersion: 2, layers: [] }, 'application/vnd.oci.image.manifest.v1+json'), 'manifest');
    assert.throws(() => manifestKind({}, 'application/vnd.docker.distribution.manifest.v1+prettyjws'), /does not read/);
  });
});
