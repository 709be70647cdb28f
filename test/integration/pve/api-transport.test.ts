// The API transport against the HTTPS DOUBLE of the Proxmox API: TLS verification for real (a CA
// file, a pinned fingerprint, the explicit insecure switch), every failure a clear error class
// (401, 403, 500, unreachable, timeout), and the token never in a log line or an error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiTransport } from '../../../src/backends/pve/api-transport.js';
import { ProxmoxApiError, ProxmoxAuthError, ProxmoxPermissionError, ProxmoxTimeoutError, ProxmoxUnreachableError } from '../../../src/backends/pve/pve-errors.js';
import { BerthError } from '../../../src/core/errors.js';
import { configureLog, log } from '../../../src/core/log.js';
import { freePort } from '../../helpers/daemon.js';
import { missing } from '../../helpers/host.js';
import { makeTls } from '../../doubles/pve/install.js';
import { makeRig, TOKEN_ID, type Rig } from '../../doubles/pve/transports.js';

describe('API transport (Proxmox API double over TLS)', { skip: missing('openssl') }, () => {
  let rig: Rig;
  const errors: Error[] = [];
  /** Runs `p`, expecting it to fail; keeps the error for the "no secret anywhere" check. */
  const failure = async (p: Promise<unknown>): Promise<Error> => {
    try {
      await p;
    } catch (err) {
      errors.push(err as Error);
      return err as Error;
    }
    assert.fail('expected a failure');
  };

  before(async () => {
    rig = await makeRig('api');
  });
  after(async () => {
    await rig.close();
  });

  test('a CA file verifies the certificate; UPID tasks are polled to completion', async () => {
    assert.deepEqual(await rig.proxmox.version(), { version: '9.1.1', release: '9.1' });
    assert.equal(await rig.proxmox.nextId(), 100);
  });

  test('without a CA or pin the self-signed certificate is refused before the token is sent', async () => {
    const seen = rig.api!.requests.length;
    const err = await failure(rig.apiTransport!({ ca: undefined }).version());
    assert.ok(err instanceof ProxmoxUnreachableError, `${err.name}: ${err.message}`);
    assert.equal((err as BerthError).code, 'BERTH_ERR_UNREACHABLE');
    assert.match(err.message, /TLS verification failed \(DEPTH_ZERO_SELF_SIGNED_CERT.*set proxmox\.ca_file or proxmox\.fingerprint/);
    assert.equal(rig.api!.requests.length, seen, 'the double received no request');
  });

  test('a CA that did not sign the certificate is refused too', async () => {
    const other = makeTls(rig.double.root, 'other-ca');
    const err = await failure(rig.apiTransport!({ ca: other.cert }).version());
    assert.ok(err instanceof ProxmoxUnreachableError);
    assert.match(err.message, /TLS verification failed/);
  });

  test('a pinned SHA-256 fingerprint is accepted with or without colons, in any case', async () => {
    assert.equal((await rig.apiTransport!({ ca: undefined, fingerprint: rig.tls!.fingerprint }).version()).release, '9.1');
    const bare = rig.tls!.fingerprint.replace(/:/g, '').toLowerCase();
    assert.equal((await rig.apiTransport!({ ca: undefined, fingerprint: bare }).version()).release, '9.1');
  });

  test('a wrong fingerprint is refused and nothing is sent', async () => {
    const seen = rig.api!.requests.length;
    const wrong = 'AA:'.repeat(31) + 'AA';
    const err = await failure(rig.apiTransport!({ ca: undefined, fingerprint: wrong }).version());
    assert.ok(err instanceof ProxmoxUnreachableError);
    assert.match(err.message, new RegExp(`does not match the pinned fingerprint \\(got ${rig.tls!.fingerprint}, pinned ${wrong}\\); nothing was sent`));
    assert.equal(rig.api!.requests.length, seen);
  });

  test('insecure = true skips verification, only when asked', async () => {
    assert.equal((await rig.apiTransport!({ ca: undefined, insecure: true }).version()).version, '9.1.1');
  });

  test('unreachable host → BERTH_ERR_UNREACHABLE naming the host and the cause', async () => {
    const port = await freePort();
    const err = await failure(new ApiTransport({ url: `https://127.0.0.1:${port}`, node: 'pve', token: `${TOKEN_ID}=${rig.secret}`, ca: rig.tls!.cert }).version());
    assert.ok(err instanceof ProxmoxUnreachableError);
    assert.match(err.message, new RegExp(`cannot reach the Proxmox API at 127\\.0\\.0\\.1:${port}: connection refused`));
  });

  test('bad token (401) → BERTH_ERR_AUTH naming the token id, never the secret', async () => {
    const err = await failure(rig.apiTransport!({ token: `${TOKEN_ID}=not-the-secret` }).version());
    assert.ok(err instanceof ProxmoxAuthError);
    assert.equal((err as BerthError).code, 'BERTH_ERR_AUTH');
    assert.equal(err.message, `Proxmox API at 127.0.0.1:${rig.api!.port} rejected API token ${TOKEN_ID}: 401 authentication failure`);
    assert.doesNotMatch(err.message, /not-the-secret/);
  });

  test('a malformed token is a config error that does not echo it', () => {
    assert.throws(() => rig.apiTransport!({ token: 'secret-without-user' }), (err: Error) => {
      assert.equal((err as BerthError).code, 'BERTH_ERR_INVALID_CONFIG');
      assert.doesNotMatch(err.message, /secret-without-user/);
      return true;
    });
  });

  test('missing permission (403) → BERTH_ERR_PERMISSION with Proxmox\'s words', async () => {
    const err = await failure(rig.apiTransport!({ token: `auditor@pve!ro=${rig.secret}` }).create(100, 'local:vztmpl/x.tar', { rootfs: 'local-zfs:1' }));
    assert.ok(err instanceof ProxmoxPermissionError);
    assert.match(err.message, /^Proxmox API token auditor@pve!ro may not POST \/api2\/json\/nodes\/pve\/lxc: 403 Permission check failed \(\/vms\/100, VM\.Allocate\)$/);
  });

  test('Proxmox errors (500, 400) carry the message and the per-parameter errors', async () => {
    const e500 = await failure(rig.proxmox.status(4242));
    assert.ok(e500 instanceof ProxmoxApiError);
    assert.equal((e500 as ProxmoxApiError).status, 500);
    assert.match(e500.message, /500 Configuration file 'nodes\/pve\/lxc\/4242\.conf' does not exist$/);
    const e400 = await failure(rig.proxmox.create(100, 'local:vztmpl/x.tar', { rootfs: 'local-zfs:1', bogus: '1' }));
    assert.match(e400.message, /400 Parameter verification failed\. \(bogus: property is not defined in schema/);
  });

  test('a server that never answers → BERTH_ERR_TIMEOUT', async () => {
    const silent = createServer({ key: rig.tls!.key, cert: rig.tls!.cert }, () => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const err = await failure(new ApiTransport({ url: `https://127.0.0.1:${port}`, node: 'pve', token: `${TOKEN_ID}=${rig.secret}`, ca: rig.tls!.cert, requestTimeoutMs: 300 }).version());
      assert.ok(err instanceof ProxmoxTimeoutError, `${err.name}: ${err.message}`);
      assert.match(err.message, /GET \/api2\/json\/version did not answer within 0\.3 s/);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  test('the token secret is in no error and no log line (debug level, every failure above logged)', async () => {
    const file = join(rig.double.root, 'berth.log');
    configureLog({ file, format: 'json', level: 'debug', levelSource: 'flag' });
    try {
      for (const e of errors) await log('error', e.message, { err: { code: (e as BerthError).code }, transport: rig.proxmox });
      await failure(rig.proxmox.appendLxc(100, [{ key: 'lxc.init.cmd', value: '/bin/sh' }]));
    } finally {
      configureLog({ file: undefined, format: 'text', level: 'info', levelSource: 'default' });
    }
    const text = readFileSync(file, 'utf8');
    assert.ok(errors.length >= 8, 'the failures above were collected');
    assert.ok(text.length > 0);
    assert.equal(text.includes(rig.secret!), false, 'the secret is not in the log');
    for (const e of errors) assert.equal(`${e.message}${e.stack ?? ''}`.includes(rig.secret!), false, `the secret is not in: ${e.message}`);
    assert.equal(JSON.stringify(rig.proxmox).includes(rig.secret!), false, 'nor in the transport serialised');
  });
});
