// The Proxmox DOUBLE itself: it must hold to Proxmox's documented grammar, state machine and
// words, or the backend tests that use it prove nothing. Each case is what pct/pvesh or the API
// do on a real node (pct(1), pvesh(1), pve-container's API2/LXC.pm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:https';
import { missing } from '../../helpers/host.js';
import { makeRig, type Rig } from '../../doubles/pve/transports.js';

function run(rig: Rig, argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: rig.double.env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the Proxmox double (pct, pvesh, pvesm, API)', { skip: missing('openssl', 'tar') }, () => {
  let rig: Rig;
  let tpl: string;

  before(async () => {
    rig = await makeRig('api');
    tpl = join(rig.double.model.templateDir('local'), 'debian.tar');
    spawnSync('tar', ['-cf', tpl, '-C', rig.double.root, 'bin']);
  });
  after(async () => rig.close());

  test('pct: the usage error for missing arguments and unknown options (exit 255)', () => {
    const missingArg = run(rig, ['pct', 'create', '100']);
    assert.equal(missingArg.code, 255);
    assert.match(missingArg.stderr, /not enough arguments\n400 unable to parse option\npct create <vmid> <ostemplate> \[OPTIONS\]/);
    const unknown = run(rig, ['pct', 'start', '100', '--bogus', '1']);
    assert.equal(unknown.code, 255);
    assert.match(unknown.stderr, /Unknown option: bogus/);
    const badParam = run(rig, ['pct', 'create', '100', 'local:vztmpl/debian.tar', '--memory', 'lots']);
    assert.match(badParam.stderr, /^400 Parameter verification failed\.\nmemory: type check \('integer'\) failed - got 'lots'/);
  });

  test('pct: create, the state machine of start/stop, templates never start, config as key: value', () => {
    assert.equal(run(rig, ['pct', 'create', '100', 'local:vztmpl/debian.tar', '--rootfs', 'local-zfs:1', '--hostname', 'one']).code, 0);
    const again = run(rig, ['pct', 'create', '100', 'local:vztmpl/debian.tar', '--rootfs', 'local-zfs:1']);
    assert.deepEqual([again.code, again.stderr], [255, "CT 100 already exists on node 'pve'\n"]);
    assert.equal(run(rig, ['pct', 'stop', '100']).stderr, 'CT 100 not running\n');
    assert.equal(run(rig, ['pct', 'start', '100']).code, 0);
    assert.equal(run(rig, ['pct', 'status', '100']).stdout, 'status: running\n');
    assert.equal(run(rig, ['pct', 'start', '100']).stderr, 'CT 100 already running\n');
    assert.equal(run(rig, ['pct', 'template', '100']).stderr, "you can't convert a CT to template if the CT is running\n");
    assert.equal(run(rig, ['pct', 'destroy', '100']).stderr, 'CT 100 is running - destroy failed\n');
    assert.equal(run(rig, ['pct', 'stop', '100']).code, 0);
    assert.match(run(rig, ['pct', 'config', '100']).stdout, /^hostname: one$/m);
    assert.equal(run(rig, ['pct', 'template', '100']).code, 0);
    const start = run(rig, ['pct', 'start', '100']);
    assert.deepEqual([start.code, start.stderr], [255, "you can't start a CT if it's a template\n"]);
    assert.match(run(rig, ['pct', 'config', '100']).stdout, /^rootfs: local-zfs:basevol-100-disk-0,size=1G$/m);
  });

  test('pct clone: linked only from a template on a storage that can clone; a plain CT needs a full copy', () => {
    assert.equal(run(rig, ['pct', 'clone', '100', '101']).code, 0, 'a template clones linked by default');
    assert.match(run(rig, ['pct', 'config', '101']).stdout, /^rootfs: local-zfs:basevol-100-disk-0\/subvol-101-disk-0,size=1G$/m);
    const linkedFromPlain = run(rig, ['pct', 'clone', '101', '102', '--full', '0']);
    assert.equal(linkedFromPlain.stderr, "Linked clone feature for 'local-zfs:basevol-100-disk-0/subvol-101-disk-0' is not available\n");
    assert.equal(run(rig, ['pct', 'clone', '101', '102']).code, 0, 'without --full a plain CT is copied in full');
    assert.equal(run(rig, ['pct', 'clone', '100', '103', '--storage', 'local-zfs']).stderr, "parameter 'storage' not allowed for linked clones\n");
    const busyBase = run(rig, ['pct', 'destroy', '100']);
    assert.match(busyBase.stderr, /base volume 'local-zfs:basevol-100-disk-0' is still in use by linked cloned volume/);
  });

  test('pvesh gives JSON; a missing CT is Proxmox\'s "does not exist"', () => {
    const list = JSON.parse(run(rig, ['pvesh', 'get', '/nodes/pve/lxc', '--output-format', 'json']).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(list.map((c) => [c.vmid, c.status, c.template ?? 0]), [[100, 'stopped', 1], [101, 'stopped', 0], [102, 'stopped', 0]]);
    assert.equal(JSON.parse(run(rig, ['pvesh', 'get', '/cluster/nextid', '--output-format', 'json']).stdout), '103');
    assert.equal(run(rig, ['pvesh', 'get', '/nodes/pve/lxc/999/status/current', '--output-format', 'json']).stderr, "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n");
  });

  test('API: 401 without or with a wrong token; a task UPID in Proxmox\'s format; 400 with per-parameter errors', async () => {
    const call = (method: string, path: string, auth?: string, body?: string): Promise<{ status: number; reason: string; json: any }> =>
      new Promise((resolve, reject) => {
        const req = request(`${rig.api!.url}/api2/json${path}`, { method, ca: rig.tls!.cert, headers: { ...(auth ? { Authorization: auth } : {}), ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) } }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, reason: res.statusMessage!, json: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const token = `PVEAPIToken=berth@pve!ci=${rig.secret}`;
    assert.deepEqual(await call('GET', '/version'), { status: 401, reason: 'No ticket', json: { data: null, message: 'No ticket\n' } });
    assert.equal((await call('GET', '/version', 'PVEAPIToken=berth@pve!ci=wrong')).status, 401);
    const started = await call('POST', '/nodes/pve/lxc/101/status/start', token);
    assert.match(started.json.data, /^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzstart:101:berth@pve!ci:$/);
    const st = await call('GET', `/nodes/pve/tasks/${encodeURIComponent(started.json.data)}/status`, token);
    assert.deepEqual([st.json.data.status, st.json.data.exitstatus, st.json.data.type, st.json.data.id], ['stopped', 'OK', 'vzstart', '101']);
    const logRows = (await call('GET', `/nodes/pve/tasks/${encodeURIComponent(started.json.data)}/log`, token)).json.data as Array<{ n: number; t: string }>;
    assert.deepEqual(logRows.map((r) => r.t), ['starting CT 101', 'TASK OK']);
    const current = (await call('GET', '/nodes/pve/lxc/101/status/current', token)).json.data;
    assert.equal(current.status, 'running');
    assert.ok(Number.isInteger(current.pid) && current.pid > 1, 'a running CT reports its init pid');
    await call('POST', '/nodes/pve/lxc/101/status/stop', token);
    const bad = await call('POST', '/nodes/pve/lxc', token, 'vmid=104&ostemplate=local%3Avztmpl%2Fdebian.tar&lxc.init.cmd=x');
    assert.equal(bad.status, 400);
    assert.equal(bad.reason, 'Parameter verification failed.');
    assert.match(bad.json.errors['lxc.init.cmd'], /property is not defined in schema/);
  });

  test('pvesm path and free work on vztmpl volumes of a storage that has that content', () => {
    writeFileSync(join(rig.double.model.templateDir('local'), 'x.tar'), 'x');
    assert.equal(run(rig, ['pvesm', 'path', 'local:vztmpl/x.tar']).stdout.trim(), join(rig.double.model.templateDir('local'), 'x.tar'));
    assert.equal(run(rig, ['pvesm', 'free', 'local:vztmpl/x.tar']).code, 0);
    assert.match(run(rig, ['pvesm', 'path', 'local-zfs:vztmpl/x.tar']).stderr, /storage 'local-zfs' does not support 'vztmpl' content/);
  });
});
