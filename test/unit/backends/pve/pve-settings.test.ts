// [proxmox] in the config, the transport choice, the token's sources, the VMID map file.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chooseTransport, proxmoxDefaults, readToken } from '../../../../src/backends/pve/pve-settings.js';
import { parseVmidRange } from '../../../../src/backends/pve/vmid-allocator.js';
import { VmidMap } from '../../../../src/backends/pve/vmid-map.js';
import { parseConfig } from '../../../../src/core/config-schema.js';
import { tempDir } from '../../../helpers/bundle.js';

describe('[proxmox] config', () => {
  test('defaults, and every key documented in docs/configuration.md parses', () => {
    const c = parseConfig('[proxmox]\n', 'x.toml');
    assert.deepEqual(c.proxmox, proxmoxDefaults());
    const full = parseConfig(
      [
        '[proxmox]',
        'transport = "api"',
        'node = "pve1"',
        'storage = "tank-ct"',
        'template_storage = "local"',
        'bridge = "vmbr1"',
        'vmid_range = "9000-9999"',
        'unprivileged = false',
        'api_url = "https://pve1.example:8006"',
        'token_file = "/etc/berth/pve.token"',
        `fingerprint = "${'AB:'.repeat(31)}AB"`,
        'task_timeout = 120',
      ].join('\n'),
      'x.toml',
    );
    assert.equal(full.proxmox?.vmid_range, '9000-9999');
    assert.equal(full.proxmox?.unprivileged, false);
    assert.equal(parseConfig('', 'x.toml').proxmox, undefined, 'no section: no proxmox settings (and defaultConfig stays as it was)');
  });

  test('bad [proxmox] settings are errors naming the key', () => {
    const bad = (toml: string, msg: RegExp): void => assert.throws(() => parseConfig(`[proxmox]\n${toml}\n`, 'c.toml'), { code: 'BERTH_ERR_INVALID_CONFIG', message: msg });
    bad('vmid_range = "50-60"', /proxmox\.vmid_range: must lie within 100-999999999/);
    bad('vmid_range = "9000"', /proxmox\.vmid_range: must be LOW-HIGH/);
    bad('transport = "api"', /transport = "api" needs api_url/);
    bad(`ca_file = "/ca.pem"\nfingerprint = "${'AB'.repeat(32)}"`, /set ca_file or fingerprint, not both/);
    bad('insecure = true\nca_file = "/ca.pem"', /insecure = true contradicts/);
    bad('token_file = "relative"', /proxmox\.token_file: must be an absolute path/);
    bad('fingerprint = "abc"', /proxmox\.fingerprint: must be a SHA-256 fingerprint/);
    bad('transport = "ssh"', /proxmox\.transport/);
    bad('bogus = 1', /unknown key "bogus"/);
  });
});

describe('transport choice and token', () => {
  test('pct when it is on PATH, else the API when api_url is set, else unusable with the reason', () => {
    const d = tempDir();
    try {
      const bin = join(d.path, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'pct'), '#!/bin/sh\n');
      chmodSync(join(bin, 'pct'), 0o755);
      const withPct = { PATH: bin };
      const none = { PATH: join(d.path, 'empty') };
      const cfg = proxmoxDefaults();
      assert.deepEqual(chooseTransport(cfg, withPct), { transport: 'pct', reason: `pct found at ${bin}/pct` });
      assert.deepEqual(chooseTransport(cfg, none), { transport: undefined, reason: 'pct is not on PATH (not a Proxmox VE node) and [proxmox] api_url is not set' });
      assert.equal(chooseTransport({ ...cfg, api_url: 'https://h:8006' }, none).transport, 'api');
      assert.equal(chooseTransport({ ...cfg, transport: 'api', api_url: 'https://h:8006' }, withPct).transport, 'api', 'an explicit choice wins');
      assert.match(chooseTransport({ ...cfg, transport: 'pct' }, none).reason, /transport = "pct" but pct is not on PATH/);
    } finally {
      d.remove();
    }
  });

  test('the token: $BERTH_PVE_TOKEN first, else token_file; neither is an error that shows no secret', () => {
    const d = tempDir();
    try {
      const file = join(d.path, 'token');
      writeFileSync(file, 'berth@pve!ci=from-file\n', { mode: 0o600 });
      const cfg = { ...proxmoxDefaults(), token_file: file };
      assert.equal(readToken(cfg, { BERTH_PVE_TOKEN: 'berth@pve!ci=from-env' }), 'berth@pve!ci=from-env');
      assert.equal(readToken(cfg, {}), 'berth@pve!ci=from-file');
      assert.equal(readToken({ ...cfg, token: 'berth@pve!ci=from-config' }, {}), 'berth@pve!ci=from-config', 'the config key wins over the file');
      assert.equal(readToken({ ...cfg, token: 'berth@pve!ci=from-config' }, { BERTH_PVE_TOKEN: 'berth@pve!ci=from-env' }), 'berth@pve!ci=from-env');
      assert.throws(() => readToken(proxmoxDefaults(), {}), { code: 'BERTH_ERR_INVALID_CONFIG', message: /set \$BERTH_PVE_TOKEN, \[proxmox\] token or \[proxmox\] token_file/ });
      assert.throws(() => readToken({ ...cfg, token_file: join(d.path, 'nope') }, {}), { message: /cannot read \[proxmox\] token_file .*nope: ENOENT/ });
      writeFileSync(file, '   \n');
      assert.throws(() => readToken(cfg, {}), { message: /is empty/ });
    } finally {
      d.remove();
    }
  });
});

describe('VMID map', () => {
  test('changes are written atomically under the lock, with no temp file left', async () => {
    const d = tempDir();
    try {
      const map = new VmidMap(d.path);
      assert.deepEqual(map.read(), { version: 1, containers: {}, templates: {} });
      await map.update((m) => (m.containers.a = { vmid: 101, started: false, created: 't' }));
      await map.update((m) => (m.templates['sha256:x'] = { vmid: 100, started: false, created: 't' }));
      assert.deepEqual([...map.used()].sort(), [100, 101]);
      assert.deepEqual(JSON.parse(readFileSync(join(d.path, 'pve/vmids.json'), 'utf8')).containers.a.vmid, 101);
      assert.deepEqual(readdirSync(join(d.path, 'pve')), ['vmids.json']);
      await assert.rejects(map.update(() => {
        throw new Error('no');
      }), /no/);
      assert.equal(map.read().containers.a?.vmid, 101, 'a failed update changes nothing');
      writeFileSync(join(d.path, 'pve/vmids.json'), '{');
      assert.throws(() => map.read(), { code: 'BERTH_ERR_INTERNAL', message: /vmids\.json is not valid JSON/ });
    } finally {
      d.remove();
    }
  });

  test('vmid_range parsing', () => {
    assert.deepEqual(parseVmidRange('9000-9999'), { lo: 9000, hi: 9999 });
    assert.throws(() => parseVmidRange('99-200'), /within 100-999999999/);
    assert.throws(() => parseVmidRange('300-200'), /LOW-HIGH/);
  });
});
