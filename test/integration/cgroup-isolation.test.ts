// Two state roots, the same container id, both running: each container is in a cgroup of its
// own root (/berth-<root id>/<name>, runtime/cgroup-path.ts), so `delete --force` in one root
// leaves the other's process alive. A bundle's own linux.cgroupsPath is passed through unchanged.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cgroupName } from '../../src/runtime/cgroup-path.js';
import type { ContainerRecord } from '../../src/runtime/container-store.js';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { rootCgroups, rootId } from '../helpers/cgroups.js';
import { ALL_BACKENDS, alive } from '../helpers/host.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

const PIDS = '/sys/fs/cgroup/pids';

function record(root: string, id: string): ContainerRecord {
  return JSON.parse(readFileSync(join(berthStateDir(root), 'containers', id, 'record.json'), 'utf8')) as ContainerRecord;
}

/** The pids-hierarchy cgroup of a process, from /proc/PID/cgroup. */
function pidsCgroup(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:pids:/.test(l));
  assert.ok(line, `process ${pid} is in a pids cgroup`);
  return line.replace(/^\d+:pids:/, '');
}

for (const { name: backend, skip } of ALL_BACKENDS) {
  describe(`cgroups unique per state root on ${backend}`, { skip: skip ?? (existsSync(PIDS) ? undefined : `no v1 pids hierarchy at ${PIDS}`) }, () => {
    const tmp = tempDir(`berth-cgiso-${backend}-`);
    const roots = { a: join(tmp.path, 'root-a'), b: join(tmp.path, 'root-b') };
    const bundle = makeBusyboxBundle(join(tmp.path, 'bundle'), { args: ['sleep', '300'] });
    after(async () => {
      for (const root of Object.values(roots)) {
        const dir = join(berthStateDir(root), 'containers');
        for (const id of existsSync(dir) ? readdirSync(dir) : []) await berth(['--root', root, 'delete', '--force', id]);
      }
      tmp.remove();
    });
    const b = (root: string, args: string[]) => berthOk(root, ['--runtime', backend, ...args]);
    const pidOf = async (root: string, id: string) => (JSON.parse(await b(root, ['state', id])) as { pid: number }).pid;

    // A plain id, and one a systemd unit cannot be named by ("+", over 100 bytes: a hashed name);
    // runc allows only [A-Za-z0-9_+.-] in ids.
    for (const id of [`cgiso-${backend}`, `cgiso+${backend}+${'y'.repeat(200)}`]) {
      test(`same id ${id.length > 40 ? `${id.slice(0, 20)}… (${id.length} bytes)` : id} in two roots: delete --force in one leaves the other`, async () => {
        await b(roots.a, ['run', '--detach', '--bundle', bundle, id]);
        await b(roots.b, ['run', '--detach', '--bundle', bundle, id]);
        const [pidA, pidB] = [await pidOf(roots.a, id), await pidOf(roots.b, id)];
        const name = cgroupName(id);
        assert.ok(!name.includes('/') && Buffer.byteLength(name) <= 255, `cgroup name ${name} is one path component`);
        for (const [root, pid] of [[roots.a, pidA], [roots.b, pidB]] as const) {
          const path = `/berth-${rootId(root)}/${name}`;
          assert.equal(record(root, id).cgroupsPath, path, 'the record names the chosen cgroup');
          assert.ok(existsSync(join(PIDS, path)), `${PIDS}${path} exists`);
          assert.ok(pidsCgroup(pid).startsWith(path), `the container's init is in ${path}: ${pidsCgroup(pid)}`);
        }
        assert.notEqual(rootId(roots.a), rootId(roots.b));

        await b(roots.b, ['delete', '--force', id]);
        await waitFor(`root B's ${id} to die`, () => !alive(pidB));
        assert.ok(alive(pidA), "root A's container survives root B's delete --force");
        assert.equal((JSON.parse(await b(roots.a, ['state', id])) as { status: string }).status, 'running');
        assert.deepEqual(rootCgroups(roots.b).filter((c) => c.startsWith('pids/')), [], "root B's cgroup is gone");
        assert.ok(existsSync(join(PIDS, `berth-${rootId(roots.a)}`, name)), "root A's cgroup is still there");

        await b(roots.a, ['delete', '--force', id]);
        assert.deepEqual(rootCgroups(roots.a), [], "root A's cgroups are gone after its delete");
      });
    }

    test('a bundle\'s own linux.cgroupsPath is passed through unchanged', async () => {
      const path = `/cgiso-user/${backend}`;
      const own = makeBusyboxBundle(join(tmp.path, 'own-cgroup'), { args: ['sleep', '300'], edit: (c) => (c.linux.cgroupsPath = path) });
      const id = `cgiso-own-${backend}`;
      await b(roots.a, ['run', '--detach', '--bundle', own, id]);
      try {
        assert.equal(record(roots.a, id).cgroupsPath, path);
        const config = JSON.parse(readFileSync(join(berthStateDir(roots.a), 'containers', id, 'backend-config.json'), 'utf8')) as { linux: { cgroupsPath: string } };
        assert.equal(config.linux.cgroupsPath, path);
        assert.ok(pidsCgroup(await pidOf(roots.a, id)).startsWith(path), 'the init is in the bundle\'s cgroup');
      } finally {
        await b(roots.a, ['delete', '--force', id]);
      }
      assert.equal(existsSync(join(PIDS, path)), false, `${PIDS}${path} is removed at delete`);
    });
  });
}
