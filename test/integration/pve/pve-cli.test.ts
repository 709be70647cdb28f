// `berth --runtime pve …` through the real CLI, over the API transport to the Proxmox API DOUBLE
// (berth processes talk HTTPS to the double in this test process): the runtime asks the backend
// for status and pid, failures map to their exit codes with nothing left behind, and containers
// made from a cached image are linked clones of one Proxmox template per digest, with no local volume.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readProcStat } from '../../../src/core/proc.js';
import { berth, berthOk } from '../../helpers/berth.js';
import { busyboxConfig, makeBusyboxBundle, makeBusyboxRootfs, tempDir } from '../../helpers/bundle.js';
import { freePort } from '../../helpers/daemon.js';
import { missing } from '../../helpers/host.js';
import { waitFor } from '../../helpers/wait.js';
import { buildBusyboxOciArchive } from '../../helpers/oci-image.js';
import { makeRig, TOKEN_ID, type Rig } from '../../doubles/pve/transports.js';
import { berthStateDir } from '../../../src/core/state-root.js';

function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z';
}

describe('berth --runtime pve (CLI → API double)', { skip: missing('busybox', 'tar', 'openssl') }, () => {
  let rig: Rig;
  let dirs: ReturnType<typeof tempDir>;
  let root: string;
  let config: string;
  let bundle: string;
  let env: NodeJS.ProcessEnv;

  const writeConfig = (file: string, apiUrl: string): void =>
    writeFileSync(
      file,
      `[proxmox]\ntransport = "api"\nnode = "pve"\napi_url = "${apiUrl}"\nfingerprint = "${rig.tls!.fingerprint}"\nvmid_range = "300-399"\n\n` +
        `[storage]\ndriver = "dir"\ndir = "${join(dirs.path, 'storage')}"\nstate_dir = "${join(dirs.path, 'state')}"\n`,
    );

  before(async () => {
    rig = await makeRig('api');
    dirs = tempDir('berth-pve-cli-');
    root = join(dirs.path, 'root');
    config = join(dirs.path, 'config.toml');
    writeConfig(config, rig.api!.url);
    // No tmpfs: raw lxc keys are root-only, and this build has no LXC mapping wired in.
    bundle = makeBusyboxBundle(join(dirs.path, 'bundle'), { edit: (c) => (c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/tmp')) });
    env = { ...process.env, BERTH_PVE_TOKEN: `${TOKEN_ID}=${rig.secret}` };
  });
  after(async () => {
    await rig.close();
    dirs.remove();
  });

  const cli = (args: string[], e = env) => berth(['--root', root, '--config', config, ...args], { env: e });

  test('create, state, start, kill, delete: status and pid come from Proxmox', async () => {
    await berthOk(root, ['--config', config, '--runtime', 'pve', 'create', '--bundle', bundle, 'c1'], { env });
    const created = JSON.parse(await berthOk(root, ['--config', config, 'state', 'c1'], { env }));
    assert.deepEqual([created.status, created.pid], ['created', 0]);
    await berthOk(root, ['--config', config, 'start', 'c1'], { env });
    const running = JSON.parse(await berthOk(root, ['--config', config, 'state', 'c1'], { env }));
    assert.equal(running.status, 'running');
    assert.ok(alive(running.pid), 'the pid is the live init');
    const list = JSON.parse(await berthOk(root, ['--config', config, 'list', '--format', 'json'], { env }));
    const vmid = String(rig.double.model.list().find((c) => c.name === 'berth-test' && c.template !== 1)?.vmid);
    assert.deepEqual(list.map((c: { id: string; backend: string; status: string; backendRef: string }) => [c.id, c.backend, c.status, c.backendRef]), [['c1', 'pve', 'running', vmid]]);
    assert.match(await berthOk(root, ['--config', config, 'list'], { env }), new RegExp(` pve:${vmid}\n$`));
    await berthOk(root, ['--config', config, 'kill', 'c1', 'TERM'], { env });
    await waitFor('c1 to stop', async () => JSON.parse(await berthOk(root, ['--config', config, 'state', 'c1'], { env })).status === 'stopped');
    assert.equal(alive(running.pid), false);
    await berthOk(root, ['--config', config, 'delete', 'c1'], { env });
    assert.deepEqual(rig.double.model.list().filter((c) => c.template !== 1), []);
    assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), []);
  });

  test('bundles the spec allows (root.path ".", a root outside the bundle, ociVersion 1.3.0) run on pve as on the other backends', async () => {
    const noTmp = (c: Record<string, any>): void => void (c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/tmp'));
    const self = join(dirs.path, 'bundle-self');
    makeBusyboxRootfs(self);
    writeFileSync(join(self, 'config.json'), JSON.stringify(busyboxConfig({ edit: (c) => (noTmp(c), (c.root.path = '.')) })));
    makeBusyboxRootfs(join(dirs.path, 'shared-rootfs'));
    const outside = join(dirs.path, 'bundle-outside');
    makeBusyboxBundle(outside, { edit: (c) => (noTmp(c), (c.root.path = '../shared-rootfs')) });
    const v13 = makeBusyboxBundle(join(dirs.path, 'bundle-1.3'), { edit: (c) => (noTmp(c), (c.ociVersion = '1.3.0')) });
    for (const [name, b] of [['self', self], ['outside', outside], ['v13', v13]] as const) {
      await berthOk(root, ['--config', config, '--runtime', 'pve', 'run', '--detach', '--bundle', b, `spec-${name}`], { env });
      const st = JSON.parse(await berthOk(root, ['--config', config, 'state', `spec-${name}`], { env }));
      assert.equal(st.status, 'running', `${name}: running`);
      assert.equal(st.bundle, b, `${name}: the state names the user's bundle`);
      assert.ok(alive(st.pid), `${name}: the pid is the live init`);
      await berthOk(root, ['--config', config, 'delete', '--force', `spec-${name}`], { env });
    }
    assert.deepEqual(rig.double.model.list().filter((c) => c.template !== 1), []);
  });

  test('stop: shutdown, then stop; delete --force of a running container', async () => {
    await berthOk(root, ['--config', config, '--runtime', 'pve', 'run', '--detach', '--bundle', bundle, 'c2'], { env });
    assert.equal(JSON.parse(await berthOk(root, ['--config', config, 'state', 'c2'], { env })).status, 'running');
    await berthOk(root, ['--config', config, 'stop', 'c2'], { env });
    assert.equal(JSON.parse(await berthOk(root, ['--config', config, 'state', 'c2'], { env })).status, 'stopped');
    await berthOk(root, ['--config', config, 'start', 'c2'], { env }).then(
      () => assert.fail('a stopped container cannot start again'),
      (err: Error) => assert.match(err.message, /exited 5: berth: cannot start container "c2": it is stopped/),
    );
    await berthOk(root, ['--config', config, 'delete', '--force', 'c2'], { env });
    assert.deepEqual(rig.double.model.list().filter((c) => c.template !== 1), []);
  });

  test('create --image: one Proxmox template per digest, linked clones, no local volume, the second create uploads nothing', async () => {
    const archive = buildBusyboxOciArchive(join(dirs.path, 'image'), { cmd: ['sleep', '300'] });
    await berthOk(root, ['--config', config, 'image', 'import', archive.file, '--name', 'busybox:pve'], { env });
    const digest = archive.manifest.digest;
    const uploads = () => rig.double.model.load().uploads ?? [];
    const before = uploads().length;
    for (const id of ['i1', 'i2']) await berthOk(root, ['--config', config, '--runtime', 'pve', 'create', '--image', 'busybox:pve', id], { env });

    const templates = rig.double.model.list().filter((c) => c.template === 1);
    const mine = templates.filter((t) => (rig.double.model.config(Number(t.vmid)) as Record<string, string>).description === `berth template\nimage: ${digest}\nunprivileged: 1`);
    assert.equal(mine.length, 1, 'one template for the digest');
    const tpl = Number(mine[0]!.vmid);
    const clones = rig.double.model.list().filter((c) => c.template !== 1).map((c) => rig.double.model.config(Number(c.vmid)) as Record<string, string>);
    assert.equal(clones.length, 2);
    for (const c of clones) assert.match(c.rootfs!, new RegExp(`^local-zfs:basevol-${tpl}-disk-0/subvol-\\d+-disk-0,`), 'a linked clone of it');
    assert.deepEqual(uploads().slice(before), [`berth-img-${digest.slice(7, 23)}.tar`], 'one tarball, for the first create only');

    // No local volume: Proxmox keeps the rootfs, the image's template was only read.
    const images = JSON.parse(await berthOk(root, ['--config', config, 'image', 'ls', '--format', 'json'], { env })) as { digest: string; containers: string[] }[];
    assert.deepEqual(images.map((i) => [i.digest, i.containers]), [[digest, []]]);
    const record = JSON.parse(readFileSync(join(berthStateDir(root), 'containers/i1/record.json'), 'utf8')) as { image: Record<string, unknown> };
    assert.deepEqual(record.image, { ref: 'busybox:pve', digest });
    const snap = await cli(['snapshot', 'create', 'i1']);
    assert.equal(snap.code, 6, snap.stderr);
    assert.match(snap.stderr, /container "i1" has no berth volume: its root filesystem is kept by backend pve/);

    for (const id of ['i1', 'i2']) await berthOk(root, ['--config', config, 'delete', '--force', id], { env });
    assert.deepEqual(rig.double.model.list().filter((c) => c.template !== 1), []);
    assert.deepEqual(readdirSync(join(berthStateDir(root), 'containers')), []);
    assert.ok(rig.double.model.list().some((c) => Number(c.vmid) === tpl), 'the template stays for the next container');
  });

  test('create --image of an image that is not cached: exit 4, nothing made on Proxmox or here', async () => {
    const before = rig.double.model.vmids();
    const r = await cli(['--runtime', 'pve', 'create', '--image', 'no-such:image', 'i3']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /image "no-such:image" is not in the cache/);
    assert.deepEqual(rig.double.model.vmids(), before);
    assert.equal(existsSync(join(berthStateDir(root), 'containers/i3')), false);
  });

  test('doctor reports whether Proxmox is configured and reachable, and how', async () => {
    const r = await cli(['doctor', '--format', 'json']);
    const report = JSON.parse(r.stdout) as { proxmox: { configured: boolean; reachable?: boolean; message: string } };
    assert.equal(report.proxmox.configured, true);
    assert.equal(report.proxmox.reachable, true, report.proxmox.message);
    assert.match(report.proxmox.message, new RegExp(`^reachable \\(transport = "api" \\(${rig.api!.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\\): pve: Proxmox VE `));
    const none = await berth(['--root', root, 'doctor'], { env: { ...env, PATH: '/usr/bin:/bin' } });
    assert.match(none.stdout, /^ok +backend pve: not configured: pct is not on PATH \(not a Proxmox VE node\) and \[proxmox\] api_url is not set$/m);
  });

  test('a bad token: exit 9, the token id named, the secret nowhere, nothing left', async () => {
    const r = await cli(['--runtime', 'pve', 'create', '--bundle', bundle, 'bad'], { ...env, BERTH_PVE_TOKEN: `${TOKEN_ID}=wrong-secret-123` });
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /rejected API token berth@pve!ci: 401 authentication failure/);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-secret-123/);
    assert.equal(existsSync(join(berthStateDir(root), 'containers/bad')), false);
  });

  test('no pct on PATH and no api_url: exit 6 naming why, nothing left', async () => {
    const r = await berth(['--root', root, '--runtime', 'pve', 'create', '--bundle', bundle, 'nopve'], { env: { ...env, PATH: '/usr/bin:/bin' } });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stderr, 'berth: backend pve is not usable: pct is not on PATH (not a Proxmox VE node) and [proxmox] api_url is not set\n');
    assert.equal(existsSync(join(berthStateDir(root), 'containers/nopve')), false);
  });

  test('an unreachable API: exit 11, nothing left', async () => {
    const other = join(dirs.path, 'down.toml');
    writeConfig(other, `https://127.0.0.1:${await freePort()}`);
    const r = await berth(['--root', root, '--config', other, '--runtime', 'pve', 'create', '--bundle', bundle, 'down'], { env });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /cannot reach the Proxmox API at 127\.0\.0\.1:\d+: connection refused/);
    assert.equal(existsSync(join(berthStateDir(root), 'containers/down')), false);
  });
});
