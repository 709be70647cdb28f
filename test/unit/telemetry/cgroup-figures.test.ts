// Finding a container's cgroup from /proc/<pid>/cgroup and the host's cgroup mounts, and reading
// its figures, on file trees laid out like a cgroup v1 (hybrid) host and a cgroup v2 host.
// test/integration/observability.test.ts reads real containers' cgroups.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseCgroupMounts, readCgroupFigures } from '../../../src/telemetry/cgroup-figures.js';
import { tempDir } from '../../helpers/bundle.js';

function files(root: string, tree: Record<string, string>): void {
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

test('cgroup v1 (hybrid host): cpuacct.usage, memory.usage_in_bytes, pids.current of each controller hierarchy', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const cg = join(tmp.path, 'sys/fs/cgroup');
  const mountinfo = [
    `30 25 0:26 / ${cg}/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct`,
    `31 25 0:27 / ${cg}/memory rw,nosuid - cgroup cgroup rw,memory`,
    `32 25 0:28 / ${cg}/pids rw,nosuid - cgroup cgroup rw,pids`,
    `33 25 0:29 / ${cg}/unified rw,nosuid - cgroup2 cgroup2 rw`,
    `34 25 0:30 / ${cg}/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd`,
  ].join('\n');
  files(tmp.path, {
    'proc/42/cgroup': '5:pids:/berth/c1\n4:memory:/berth/c1\n3:cpu,cpuacct:/berth/c1\n1:name=systemd:/\n0::/\n',
    'sys/fs/cgroup/cpu,cpuacct/berth/c1/cpuacct.usage': '2500000000\n',
    'sys/fs/cgroup/memory/berth/c1/memory.usage_in_bytes': '1048576\n',
    'sys/fs/cgroup/pids/berth/c1/pids.current': '3\n',
  });
  const figures = readCgroupFigures(42, parseCgroupMounts(mountinfo), join(tmp.path, 'proc'));
  assert.deepEqual(figures, { cpuSeconds: 2.5, memoryBytes: 1048576, pids: 3 });
  assert.equal(readCgroupFigures(43, parseCgroupMounts(mountinfo), join(tmp.path, 'proc')), undefined, 'a process that is gone has no figures');
});

test('cgroup v2 (Proxmox VE): cpu.stat usage_usec, memory.current, pids.current; a mount of a sub-tree is honoured', (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const cg = join(tmp.path, 'sys/fs/cgroup');
  files(tmp.path, {
    'proc/7/cgroup': '0::/lxc/101/ns/init.scope\n',
    'proc/8/cgroup': '0::/elsewhere\n',
    'sys/fs/cgroup/101/ns/init.scope/cpu.stat': 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n',
    'sys/fs/cgroup/101/ns/init.scope/memory.current': '4096\n',
  });
  // Only /lxc is mounted here (as inside a nested namespace): paths are taken relative to it.
  const mounts = parseCgroupMounts(`40 1 0:31 /lxc ${cg} rw - cgroup2 cgroup2 rw,nsdelegate`);
  assert.deepEqual(readCgroupFigures(7, mounts, join(tmp.path, 'proc')), { cpuSeconds: 1.5, memoryBytes: 4096, pids: undefined });
  assert.deepEqual(readCgroupFigures(8, mounts, join(tmp.path, 'proc')), { cpuSeconds: undefined, memoryBytes: undefined, pids: undefined }, 'outside the mounted tree: nothing is guessed');
});
