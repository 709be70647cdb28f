// Backend detection through the real CLI: `doctor`, a forced backend that cannot be used, what
// `crun` (auto) records, and records written before crun-abi existed (backend "crun").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { lxcHelpersMissing, missing } from '../helpers/host.js';
import { berthStateDir } from '../../src/core/state-root.js';

describe('backend detection', { skip: missing('crun', 'runc', 'busybox') }, () => {
  const tmp = tempDir('berth-detect-int-');
  after(tmp.remove);
  const root = join(tmp.path, 'root');
  const textSo = join(tmp.path, 'libcrun.so');
  writeFileSync(textSo, 'not a library\n');
  const bundle = makeBusyboxBundle(join(tmp.path, 'b'), { args: ['sleep', '300'] });
  const noLib = { ...process.env, BERTH_LIBCRUN: join(tmp.path, 'missing.so') };

  test('doctor --format json: each backend usable or why not, the auto choice, exit 1 for warnings', async () => {
    const r = await berth(['--root', root, 'doctor', '--format', 'json'], { env: { ...process.env, BERTH_LIBCRUN: textSo } });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as {
      cgroup: { mode: string };
      backends: Array<{ name: string; usable: boolean; reason: string }>;
      auto: { backend: string; reason: string };
      status: string;
    };
    assert.ok(['v1', 'v2', 'hybrid'].includes(report.cgroup.mode));
    // lxc is reported after the crun candidates; usable when LXC and berth's helpers are here.
    const lxcUsable = missing('lxc-info', 'lxc-attach') === undefined && lxcHelpersMissing() === undefined;
    assert.deepEqual(report.backends.map((b) => [b.name, b.usable]), [['crun-abi', false], ['crun-cli', true], ['runc', true], ['lxc', lxcUsable]]);
    assert.equal(report.backends[0]!.reason, `load failed: ${textSo} cannot be loaded: not an ELF file`);
    assert.equal(report.auto.backend, 'crun-cli');
    // A berth command tries the crun CLI first; the library's problem is still reported above.
    assert.match(report.auto.reason, /^chose crun-cli \(a one-shot command: faster than starting a libcrun worker\)/);
    assert.equal(report.status, 'warnings');
    const text = await berth(['--root', root, 'doctor'], { env: { ...process.env, BERTH_LIBCRUN: textSo } });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^WARN  backend crun-abi: load failed: /m);
    assert.match(text.stdout, /^crun \(auto\): crun-cli$/m);
    assert.match(text.stdout, lxcUsable ? /^ok    backend lxc: LXC tools/m : /^WARN  backend lxc: /m);
  });

  test('--runtime crun-abi without a usable libcrun is an error naming why, and nothing is left', async () => {
    const r = await berth(['--root', root, '--runtime', 'crun-abi', 'create', '--bundle', bundle, 'forced'], { env: noLib });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stderr, `berth: backend crun-abi is not usable: library not found: ${join(tmp.path, 'missing.so')} does not exist\n`);
    assert.equal((await berth(['--root', root, 'state', 'forced'])).code, 4);
  });

  test('crun (auto) records what it resolved to, and why', async () => {
    await berthOk(root, ['--runtime', 'crun', 'create', '--bundle', bundle, 'auto-1'], { env: noLib });
    const record = JSON.parse(readFileSync(join(berthStateDir(root), 'containers', 'auto-1', 'record.json'), 'utf8')) as { backend: string; backendReason: string };
    assert.equal(record.backend, 'crun-cli');
    assert.match(record.backendReason, /^--runtime flag named crun \(auto\): chose crun-cli \(a one-shot command: faster than starting a libcrun worker\), crun binary \S+$/);
    await berthOk(root, ['delete', '--force', 'auto-1']);
  });

  test('a record that says "crun" (written before crun-abi) is driven by the crun CLI', async () => {
    await berthOk(root, ['--runtime', 'crun-cli', 'create', '--bundle', bundle, 'legacy']);
    const file = join(berthStateDir(root), 'containers', 'legacy', 'record.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), backend: 'crun' }));
    await berthOk(root, ['start', 'legacy']);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'legacy'])).status, 'running');
    assert.equal(await berthOk(root, ['exec', 'legacy', 'echo', 'hi']), 'hi\n');
    await berthOk(root, ['delete', '--force', 'legacy']);
    assert.equal(execFileSync('crun', ['--root', join(berthStateDir(root), 'crun'), 'list', '-q'], { encoding: 'utf8' }), '');
  });
});
