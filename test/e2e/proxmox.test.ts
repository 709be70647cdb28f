// The pve backend on a REAL Proxmox VE host (there is none in CI: there the doubles in
// test/doubles/pve stand in). Run with `npm run test:e2e:proxmox`; see docs/backends/proxmox.md.
//
//   BERTH_E2E_PVE=pct                       on the node itself (root, pct on PATH)
//   BERTH_E2E_PVE=https://HOST:8006         over the API; BERTH_PVE_TOKEN=USER@REALM!ID=SECRET,
//                                           and BERTH_E2E_PVE_CA=FILE or BERTH_E2E_PVE_FINGERPRINT
//   BERTH_E2E_PVE_NODE (default: the host's short name, or "pve" for the API)
//   BERTH_E2E_PVE_STORAGE (default local-zfs), BERTH_E2E_PVE_TEMPLATE_STORAGE (default local),
//   BERTH_E2E_PVE_BRIDGE (default vmbr0), BERTH_E2E_PVE_VMIDS (default 9900-9999)
//
// It creates, starts, inspects, signals, stops and deletes containers, checks that the second
// container is a linked clone of the same template, makes two containers from a cached image
// through the CLI (image → one template per digest → linked clones, no local volume), and
// removes everything it made, the templates included. One container carries every setting the
// LXC mapping expresses (capabilities, rlimits, oom_score_adj, no_new_privileges, seccomp, sysctl,
// masked paths, devices, pids): over pct each is checked from inside the running container; over
// the API the same bundle is refused before anything is made.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadMapOciToLxc } from '../../src/backends/pve/lxc-mapping-link.js';
import { PveBackend } from '../../src/backends/pve/pve-backend.js';
import { openTransport, proxmoxDefaults } from '../../src/backends/pve/pve-settings.js';
import { parseVmidRange } from '../../src/backends/pve/vmid-allocator.js';
import type { Proxmox } from '../../src/backends/pve/proxmox.js';
import { parseSignal } from '../../src/core/signals.js';
import { berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { buildBusyboxOciArchive } from '../helpers/oci-image.js';
import { missing } from '../helpers/host.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';
import { ProxmoxPermissionError } from '../../src/backends/pve/pve-errors.js';

const target = process.env.BERTH_E2E_PVE;
const skip = !target
  ? 'BERTH_E2E_PVE is not set: no Proxmox VE host to test against (set it to "pct" on a node, or to https://HOST:8006 with BERTH_PVE_TOKEN; see docs/backends/proxmox.md)'
  : missing('busybox', 'tar');
if (skip) process.stdout.write(`test:e2e:proxmox skipped: ${skip}\n`);

describe('pve backend on a real Proxmox VE host', { skip }, () => {
  let dirs: ReturnType<typeof tempDir>;
  let proxmox: Proxmox;
  let backend: PveBackend;
  let root: string;
  /** The same settings as a berth config file, for the CLI (which shares `root`, so its VMID map). */
  let configFile: string;
  const made: string[] = [];

  before(async () => {
    dirs = tempDir('berth-e2e-pve-');
    const api = target !== 'pct';
    const cfg = {
      ...proxmoxDefaults(),
      transport: api ? ('api' as const) : ('pct' as const),
      node: process.env.BERTH_E2E_PVE_NODE ?? (api ? 'pve' : hostname().split('.')[0]),
      storage: process.env.BERTH_E2E_PVE_STORAGE ?? 'local-zfs',
      template_storage: process.env.BERTH_E2E_PVE_TEMPLATE_STORAGE ?? 'local',
      bridge: process.env.BERTH_E2E_PVE_BRIDGE ?? 'vmbr0',
      vmid_range: process.env.BERTH_E2E_PVE_VMIDS ?? '9900-9999',
      api_url: api ? target : undefined,
      ca_file: process.env.BERTH_E2E_PVE_CA,
      fingerprint: process.env.BERTH_E2E_PVE_FINGERPRINT,
    };
    proxmox = openTransport(cfg);
    root = join(dirs.path, 'root');
    configFile = join(dirs.path, 'config.toml');
    const toml = Object.entries(cfg)
      .filter(([k, v]) => v !== undefined && ['transport', 'node', 'storage', 'template_storage', 'bridge', 'vmid_range', 'api_url', 'ca_file', 'fingerprint'].includes(k))
      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
    writeFileSync(configFile, `[proxmox]\n${toml.join('\n')}\n\n[storage]\ndriver = "dir"\ndir = "${join(dirs.path, 'storage')}"\nstate_dir = "${join(dirs.path, 'state')}"\n`, { mode: 0o600 });
    backend = new PveBackend({
      proxmox,
      root,
      storage: cfg.storage,
      templateStorage: cfg.template_storage,
      bridge: cfg.bridge,
      unprivileged: true,
      vmidRange: parseVmidRange(cfg.vmid_range),
      mapOciToLxc: await loadMapOciToLxc(),
      stopTimeoutS: 10,
    });
  });

  after(async () => {
    for (const id of made) await backend.delete(id, true).catch(() => undefined);
    for (const id of ['e2e-img-1', 'e2e-img-2']) await berthOk(root, ['--config', configFile, 'delete', '--force', id]).catch(() => undefined);
    // The template this run made, too: found through the VMID map.
    for (const t of Object.values(backend.map.read().templates)) await proxmox.destroy(t.vmid, { purge: true, force: true }).catch(() => undefined);
    dirs.remove();
  });

  test('create → created; start → running with a host pid; kill TERM; stop; delete; nothing left', async () => {
    const b = makeBusyboxBundle(join(dirs.path, 'b'), { args: ['sleep', '3600'], edit: (c) => (c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/tmp')) });
    made.push('e2e-1');
    const c = await backend.createFromBundle('e2e-1', b);
    assert.equal((await backend.state('e2e-1')).status, 'created');
    await backend.start('e2e-1');
    const running = await backend.state('e2e-1');
    assert.equal(running.status, 'running');
    assert.ok(running.pid && running.pid > 1);
    if (proxmox.hostLocal) assert.match(readFileSync(`/proc/${running.pid}/cmdline`, 'utf8'), /sleep/);
    await backend.kill('e2e-1', parseSignal('TERM'));
    await waitFor('the container to stop', async () => (await backend.state('e2e-1')).status === 'stopped', 30_000);

    made.push('e2e-2');
    const c2 = await backend.createFromBundle('e2e-2', b);
    assert.equal(c2.template, c.template, 'the same template');
    assert.equal(c2.linked, c.linked);
    await backend.start('e2e-2');
    await backend.stop('e2e-2', 5);
    assert.equal((await backend.state('e2e-2')).status, 'stopped');

    for (const id of ['e2e-1', 'e2e-2']) await backend.delete(id, false);
    const left = (await proxmox.list()).filter((x) => x.vmid === c.vmid || x.vmid === c2.vmid);
    assert.deepEqual(left, []);
    assert.deepEqual(backend.map.read().containers, {});
  });

  test('OCI settings in the running container: capabilities, rlimits, oom_score_adj, nnp, seccomp, sysctl, masked paths, devices, pids (pct); refused for a token (api)', async () => {
    const b = makeBusyboxBundle(join(dirs.path, 'b-fidelity'), {
      args: ['sleep', '3600'],
      edit: (c) => {
        c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/tmp');
        c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] };
        c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }];
        c.process.oomScoreAdj = 300;
        c.process.noNewPrivileges = true;
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_ERRNO' }] };
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
        c.linux.maskedPaths = ['/proc/version'];
        c.linux.devices = [{ path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 0, gid: 0 }, { path: '/dev/berth-fifo', type: 'p' }];
        c.linux.resources = { pids: { limit: 64 } };
      },
    });
    if (!proxmox.isRoot) {
      await assert.rejects(backend.createFromBundle('e2e-fidelity', b), (err: Error) => err instanceof ProxmoxPermissionError && /dev0.*lxc\.seccomp\.profile/.test(err.message));
      assert.equal(backend.map.read().containers['e2e-fidelity'], undefined, 'nothing made');
      return;
    }
    made.push('e2e-fidelity');
    await backend.createFromBundle('e2e-fidelity', b);
    await backend.start('e2e-fidelity');
    const sh = async (script: string) => (await backend.execArgv('e2e-fidelity', ['/bin/sh', '-c', script], 'capture'));
    const out = async (script: string) => (await sh(script)).stdout.trim();
    // The init (pid 1) got what LXC applies to it; exec'd processes get what lxc-attach applies.
    assert.match(await out('grep CapEff /proc/1/status'), /CapEff:\s+0*21$/, 'chown (0) and kill (5): 0x21');
    assert.match(await out('grep NoNewPrivs /proc/1/status'), /NoNewPrivs:\s+1/);
    assert.match(await out('grep "Max open files" /proc/1/limits'), /Max open files\s+512\s+1024/);
    assert.equal(await out('cat /proc/1/oom_score_adj'), '300');
    assert.notEqual((await sh('uname -s')).exitCode, 0, 'uname(2) is denied by the seccomp profile');
    assert.equal(await out('cat /proc/sys/net/ipv4/ip_forward'), '1');
    assert.equal(await out('cat /proc/version'), '', '/proc/version is masked');
    assert.equal(await out('stat -c %a:%t:%T /dev/zero'), '640:1:5', 'devN with its mode');
    assert.equal((await sh('test -p /dev/berth-fifo')).exitCode, 0, 'the FIFO from the mapping\'s hook');
    assert.equal(await out('cat /sys/fs/cgroup/pids.max'), '64');
    await backend.delete('e2e-fidelity', true);
  });

  test('image → template → linked clone: two containers from a cached image share the template of its digest, no local volume', async () => {
    const archive = buildBusyboxOciArchive(join(dirs.path, 'image'), { cmd: ['sleep', '3600'] });
    const cli = (args: string[]) => berthOk(root, ['--config', configFile, ...args], { timeoutMs: 600_000 });
    await cli(['image', 'import', archive.file, '--name', 'busybox:e2e']);
    const digest = archive.manifest.digest;
    for (const id of ['e2e-img-1', 'e2e-img-2']) await cli(['--runtime', 'pve', 'create', '--image', 'busybox:e2e', id]);

    const map = backend.map.read();
    const template = map.templates[`template:image:${digest}`];
    assert.ok(template, 'the template is mapped under the image digest');
    const tconf = await proxmox.getConfig(template.vmid);
    assert.equal((tconf.options.description ?? '').trim(), `berth template\nimage: ${digest}\nunprivileged: 1`);
    assert.ok((await proxmox.list()).find((c) => c.vmid === template.vmid)?.template, 'it is a Proxmox template');
    for (const id of ['e2e-img-1', 'e2e-img-2']) {
      const vmid = map.containers[id]?.vmid;
      assert.ok(vmid, `${id} is mapped`);
      // A linked clone's root disk names its template's base volume (ZFS: basevol-T-disk-0/subvol-N-disk-0);
      // a storage without linked clones gets full copies (the backend falls back, as in the first test).
      if (/basevol-/.test(tconf.options.rootfs ?? '')) assert.match((await proxmox.getConfig(vmid).then((c) => c.options.rootfs)) ?? '', new RegExp(`basevol-${template.vmid}-disk-\\d+/`));
    }
    const images = JSON.parse(await cli(['image', 'ls', '--format', 'json'])) as { digest: string; containers: string[] }[];
    assert.deepEqual(images.map((i) => [i.digest, i.containers]), [[digest, []]], 'no local volume made');

    await cli(['start', 'e2e-img-1']);
    assert.equal(JSON.parse(await cli(['state', 'e2e-img-1'])).status, 'running');
    for (const id of ['e2e-img-1', 'e2e-img-2']) await cli(['delete', '--force', id]);
    assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), []);
    assert.deepEqual(backend.map.read().containers, {});
  });
});
