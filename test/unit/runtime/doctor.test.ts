import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupMode } from '../../../src/runtime/doctor.js';

// mountinfo lines: id parent major:minor root mountpoint options ... - fstype source superoptions
const line = (mp: string, type: string): string => `30 1 0:26 / ${mp} rw,nosuid shared:9 - ${type} ${type} rw`;
const controllers = (owned: Record<string, string>) => (path: string): string => {
  if (path in owned) return owned[path]!;
  throw new Error(`ENOENT ${path}`);
};

describe('doctor: cgroup mode', () => {
  test('cgroup2 at the root: v2 (Proxmox VE 8 and 9)', () => {
    const r = cgroupMode(line('/sys/fs/cgroup', 'cgroup2'), controllers({ '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n' }));
    assert.equal(r.mode, 'v2');
    assert.deepEqual(r.v2Controllers, ['cpu', 'memory', 'pids']);
  });

  test('v1 controllers plus cgroup2 at unified: hybrid, with the controllers cgroup2 still owns', () => {
    const info = [line('/sys/fs/cgroup', 'tmpfs'), line('/sys/fs/cgroup/memory', 'cgroup'), line('/sys/fs/cgroup/unified', 'cgroup2')].join('\n');
    const r = cgroupMode(info, controllers({ '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n' }));
    assert.equal(r.mode, 'hybrid');
    assert.deepEqual(r.v2Controllers, ['hugetlb']);
    assert.match(r.detail, /owning hugetlb$/);
    const emptied = cgroupMode(info, controllers({ '/sys/fs/cgroup/unified/cgroup.controllers': '\n' }));
    assert.match(emptied.detail, /owning no controllers$/);
  });

  test('only v1 controllers: v1; nothing mounted: none', () => {
    assert.equal(cgroupMode([line('/sys/fs/cgroup', 'tmpfs'), line('/sys/fs/cgroup/pids', 'cgroup')].join('\n'), controllers({})).mode, 'v1');
    assert.equal(cgroupMode(line('/', 'ext4'), controllers({})).mode, 'none');
  });

  test('this host is detected as one of the modes', async () => {
    const { readFileSync } = await import('node:fs');
    const r = cgroupMode(readFileSync('/proc/self/mountinfo', 'utf8'), (p) => readFileSync(p, 'utf8'));
    assert.ok(['v2', 'hybrid', 'v1'].includes(r.mode), r.detail);
  });
});
