// `berth --runtime pve …` through the real CLI, over the API transport to the Proxmox API DOUBLE
// (berth processes talk HTTPS to the double in this test process): the runtime asks the backend
// for status and pid, and failures map to their exit codes with nothing left behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readProcStat } from '../../../src/core/proc.js';
import { berth, berthOk } from '../../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../../helpers/bundle.js';
import { freePort } from '../../helpers/daemon.js';
import { missing } from '../../helpers/host.js';
import { waitFor } from '../../helpers/wait.js';
import { makeRig, TOKEN_ID, type Rig } from '../../doubles/pve/transports.js';

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
    writeFileSync(file, `[proxmox]\ntransport = "api"\nnode = "pve"\napi_url = "${apiUrl}"\nfingerprint = "${rig.tls!.fingerprint}"\nvmid_range = "300-399"\n`);

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
    assert.deepEqual(readdirSync(join(root, 'containers')), []);
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

  test('doctor reports whether Proxmox is configured and reachable, and how', async () => {
    const r = await cli(['doctor', '--format', 'json']);
    const report = JSON.parse(r.stdout) as { proxmox: { configured: boolean; reachable?: boolean; message: string } };
    assert.equal(report.proxmox.configured, true);
    assert.equal(report.proxmox.reachable, true, report.proxmox.message);
    assert.match(report.proxmox.message, new RegExp(`^reachable \\(transport = "api" \\(${rig.api!.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\\): pve: Proxmox VE `));
    const none = await berth(['--root', root, 'doctor'], { env: { ...env, PATH: '/usr/bin:/bin' } });
    assert.match(none.stdout, /^ok +proxmox: not configured: pct is not on PATH \(not a Proxmox VE node\) and \[proxmox\] api_url is not set$/m);
  });

  test('a bad token: exit 9, the token id named, the secret nowhere, nothing left', async () => {
    const r = await cli(['--runtime', 'pve', 'create', '--bundle', bundle, 'bad'], { ...env, BERTH_PVE_TOKEN: `${TOKEN_ID}=wrong-secret-123` });
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /rejected API token berth@pve!ci: 401 authentication failure/);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-secret-123/);
    assert.equal(existsSync(join(root, 'containers/bad')), false);
  });

  test('no pct on PATH and no api_url: exit 6 naming why, nothing left', async () => {
    const r = await berth(['--root', root, '--runtime', 'pve', 'create', '--bundle', bundle, 'nopve'], { env: { ...env, PATH: '/usr/bin:/bin' } });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stderr, 'berth: backend pve is not usable: pct is not on PATH (not a Proxmox VE node) and [proxmox] api_url is not set\n');
    assert.equal(existsSync(join(root, 'containers/nopve')), false);
  });

  test('an unreachable API: exit 11, nothing left', async () => {
    const other = join(dirs.path, 'down.toml');
    writeConfig(other, `https://127.0.0.1:${await freePort()}`);
    const r = await berth(['--root', root, '--config', other, '--runtime', 'pve', 'create', '--bundle', bundle, 'down'], { env });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /cannot reach the Proxmox API at 127\.0\.0\.1:\d+: connection refused/);
    assert.equal(existsSync(join(root, 'containers/down')), false);
  });
});
