// Detection with real files: which backend `crun` (auto) chooses, and the reason, for a missing
// library, an unloadable file, a .so that is not libcrun, a libcrun of a version berth has no
// layout for, and a PATH without crun.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectHost, type DetectionInput } from '../../../src/backends/availability.js';
import { detectLibcrun, whyNoLibcrun } from '../../../src/backends/libcrun/detect.js';
import { readElf } from '../../../src/backends/libcrun/elf.js';
import { layoutFor } from '../../../src/backends/libcrun/layouts.js';
import { BackendUnavailableError } from '../../../src/core/errors.js';
import { resolveAuto } from '../../../src/runtime/router.js';
import type { HostDetection } from '../../../src/backends/availability.js';
import { tempDir } from '../../helpers/bundle.js';
import { LIBCRUN_SO, libcrunMissing } from '../../helpers/host.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

function withTemp(t: { after: (fn: () => void) => void }): string {
  const tmp = tempDir('berth-detect-');
  t.after(tmp.remove);
  return tmp.path;
}

/** A PATH directory holding only the named host binaries. */
function pathWith(dir: string, ...bins: Array<[string, string]>): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, target] of bins) symlinkSync(target, join(bin, name));
  return bin;
}

function input(dir: string, over: Partial<DetectionInput> = {}): DetectionInput {
  const empty = join(dir, 'no-cache');
  return { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, libcrunPath: undefined, crunBinary: undefined, runcBinary: undefined, cacheDir: empty, systemPaths: [], ...over };
}

/** What `crun` (auto) resolves to, opening nothing (every usable backend opens). */
async function auto(d: ReturnType<typeof detectHost>): Promise<{ backend: string; reason: string }> {
  return resolveAuto({ backend: 'crun', reason: 'test' }, d, async () => undefined);
}

describe('libcrun detection', () => {
  test('no library anywhere: library not found, crun (auto) chooses the crun CLI and says why', async (t) => {
    const dir = withTemp(t);
    const d = detectHost(input(dir));
    assert.equal(d.backends['crun-abi'].usable, false);
    assert.equal(d.backends['crun-abi'].problem, 'not-found');
    assert.match(d.backends['crun-abi'].reason, /^library not found: no libcrun\.so under .*no-cache \(build one with scripts\/build-libcrun\.sh\); no libcrun in/);
    const a = await auto(d);
    assert.equal(a.backend, 'crun-cli');
    assert.match(a.reason, /chose crun-cli, crun binary \/usr\/bin\/crun; crun-abi not usable \(library not found: /);
  });

  test('BERTH_LIBCRUN naming a missing file: not found, and no other library is tried', (t) => {
    const dir = withTemp(t);
    const d = detectLibcrun({ env: { BERTH_LIBCRUN: join(dir, 'nope.so') }, configPath: undefined, cacheDir: dir, systemPaths: [LIBC] });
    assert.equal(d.found, undefined);
    assert.deepEqual(d.attempts.map((a) => [a.strategy, a.problem]), [['BERTH_LIBCRUN', 'not-found']]);
    assert.equal(whyNoLibcrun(d).reason, `library not found: ${join(dir, 'nope.so')} does not exist`);
  });

  test('a text file named libcrun.so: load failed', async (t) => {
    const dir = withTemp(t);
    const so = join(dir, 'libcrun.so');
    writeFileSync(so, 'this is not a library\n');
    const d = detectHost(input(dir, { libcrunPath: so }));
    assert.equal(d.backends['crun-abi'].problem, 'load-failed');
    assert.equal(d.backends['crun-abi'].reason, `load failed: ${so} cannot be loaded: not an ELF file`);
    assert.match((await auto(d)).reason, /crun-abi not usable \(load failed: .* not an ELF file\)/);
  });

  test('a real shared object that is not libcrun (libc): symbol missing', (t) => {
    const dir = withTemp(t);
    const d = detectHost(input(dir, { env: { BERTH_LIBCRUN: LIBC, PATH: '/usr/bin' } }));
    assert.equal(d.backends['crun-abi'].problem, 'symbol-missing');
    assert.equal(d.backends['crun-abi'].reason, `symbol missing: ${LIBC} is not libcrun: it does not export libcrun_container_create`);
  });

  test('the config key libcrun_path is used when BERTH_LIBCRUN is not set, and BERTH_LIBCRUN wins over it', (t) => {
    const dir = withTemp(t);
    const fromConfig = detectLibcrun({ env: {}, configPath: join(dir, 'config.so'), cacheDir: dir, systemPaths: [] });
    assert.deepEqual(fromConfig.attempts.map((a) => a.strategy), ['config libcrun_path']);
    const fromEnv = detectLibcrun({ env: { BERTH_LIBCRUN: join(dir, 'env.so') }, configPath: join(dir, 'config.so'), cacheDir: dir, systemPaths: [] });
    assert.deepEqual(fromEnv.attempts.map((a) => a.strategy), ['BERTH_LIBCRUN']);
  });

  test('the real libcrun from the build cache: usable, version 1.8.1 from its VERSION file, 1.8.x layout', { skip: libcrunMissing() }, async (t) => {
    const dir = withTemp(t);
    const d = detectHost(input(dir, { env: { BERTH_LIBCRUN: LIBCRUN_SO, PATH: '/usr/bin' } }));
    assert.equal(d.backends['crun-abi'].usable, true, d.backends['crun-abi'].reason);
    assert.equal(d.libcrun.found?.version, '1.8.1');
    assert.equal(d.libcrun.found?.layout.name, 'crun 1.8.x');
    const a = await auto(d);
    assert.equal(a.backend, 'crun-abi');
    assert.match(a.reason, /chose crun-abi, libcrun 1\.8\.1 \(crun 1\.8\.x layout\) at .*libcrun\.so, found by BERTH_LIBCRUN$/);
  });

  test('a copy of libcrun without a VERSION file: the version is read from the library itself', { skip: libcrunMissing() }, (t) => {
    const dir = withTemp(t);
    const so = join(dir, 'libcrun.so');
    copyFileSync(LIBCRUN_SO, so);
    const d = detectLibcrun({ env: {}, configPath: so, cacheDir: dir, systemPaths: [] });
    assert.equal(d.found?.version, '1.8.1');
    assert.equal(d.found?.versionSource, 'version string in the library');
  });

  test('libcrun of a version without a layout (noted as 1.13.0): version unsupported, fallback to the crun CLI', { skip: libcrunMissing() }, async (t) => {
    const dir = withTemp(t);
    const so = join(dir, '1.13.0', 'libcrun.so');
    mkdirSync(join(dir, '1.13.0'));
    copyFileSync(LIBCRUN_SO, so);
    writeFileSync(join(dir, '1.13.0', 'VERSION'), '1.13.0-1\n');
    const d = detectHost(input(dir, { cacheDir: dir }));
    assert.equal(d.backends['crun-abi'].problem, 'version-unsupported');
    assert.equal(d.backends['crun-abi'].reason, `version unsupported: ${so} is crun 1.13.0, and berth has struct layouts only for crun 1.8.x`);
    assert.equal((await auto(d)).backend, 'crun-cli');
  });

  test('no crun binary in PATH: the crun CLI is unusable (binary missing) and crun (auto) chooses runc', async (t) => {
    const dir = withTemp(t);
    const d = detectHost(input(dir, { env: { PATH: pathWith(dir, ['runc', '/usr/sbin/runc']) } }));
    assert.equal(d.backends['crun-cli'].usable, false);
    assert.equal(d.backends['crun-cli'].problem, 'binary-missing');
    assert.match(d.backends['crun-cli'].reason, /^binary missing: crun binary not found in PATH/);
    const a = await auto(d);
    assert.equal(a.backend, 'runc');
    assert.match(a.reason, /chose runc, runc binary .*\/bin\/runc; crun-abi not usable \(library not found: .*\); crun-cli not usable \(binary missing: crun binary not found in PATH/);
  });

  test('a configured crun path that does not exist: an error naming the key and the path, never a route to runc', async (t) => {
    const dir = withTemp(t);
    for (const [key, over] of [
      ['runtimes.crun.path', {}],
      ['runtimes.crun-cli.path', { crunBinaryKey: 'runtimes.crun-cli.path' }],
    ] as const) {
      const d = detectHost(input(dir, { crunBinary: '/nonexistent/crun', ...over }));
      assert.equal(d.backends['crun-cli'].problem, 'configured-binary-missing');
      assert.equal(d.backends.runc.usable, true, 'runc is there, and must not be chosen');
      for (const model of ['one-shot', 'long-lived'] as const) {
        await assert.rejects(resolveAuto({ backend: 'crun', reason: 'configured default runtime' }, d, async () => undefined, model), (err: unknown) => {
          assert.ok(err instanceof BackendUnavailableError, String(err));
          assert.equal(
            err.message,
            `configured default runtime named crun (auto), and crun-cli cannot be used: crun binary /nonexistent/crun (${key} in the berth config) does not exist or is not executable; fix ${key}, or remove it to look crun up in PATH`,
          );
          return true;
        });
      }
    }
  });

  test('nothing usable: crun (auto) fails naming every reason', async (t) => {
    const dir = withTemp(t);
    const d = detectHost(input(dir, { env: { PATH: pathWith(dir) } }));
    await assert.rejects(auto(d), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.match(err.message, /^test named crun \(auto\), and no backend is usable: crun-abi not usable \(library not found: .*\); crun-cli not usable \(binary missing: .*\); runc not usable \(binary missing: /);
      return true;
    });
  });

  test('a library that is found but does not load (in the worker) is passed over with that reason', { skip: libcrunMissing() }, async (t) => {
    const dir = withTemp(t);
    const d = detectHost(input(dir, { env: { BERTH_LIBCRUN: LIBCRUN_SO, PATH: '/usr/bin' } }));
    const a = await resolveAuto({ backend: 'crun', reason: 'test' }, d, async (name) => {
      if (name === 'crun-abi') throw new BackendUnavailableError('load failed: libyajl.so.2: cannot open shared object file');
    });
    assert.equal(a.backend, 'crun-cli');
    assert.match(a.reason, /crun-abi not usable \(load failed: libyajl\.so\.2: cannot open shared object file\)$/);
  });

  test('names other than crun are not resolved', async (t) => {
    const d = detectHost(input(withTemp(t)));
    assert.deepEqual(await resolveAuto({ backend: 'runc', reason: 'r' }, d, async () => assert.fail('must not open')), { backend: 'runc', reason: 'r' });
  });
});

describe('ELF reading and layouts', () => {
  test('libc exports its functions; a layout exists only for crun 1.8.x', () => {
    assert.ok(readElf(LIBC).exports.has('getpid'));
    assert.equal(layoutFor('1.8.1')?.name, 'crun 1.8.x');
    assert.equal(layoutFor('1.8')?.name, 'crun 1.8.x');
    for (const v of ['1.13', '1.9.0', '1.80.1', '2.8.1', '']) assert.equal(layoutFor(v), undefined, v);
  });
});

describe('the 1.8.x context layout', () => {
  test('koffi lays libcrun_context_t out in 120 bytes with the fields at their C offsets', async () => {
    const koffi = (await import('koffi')).default;
    const layout = layoutFor('1.8.1')!;
    const ctx = koffi.struct('test_libcrun_context_1_8', Object.fromEntries(layout.context));
    assert.equal(koffi.sizeof(ctx), layout.contextSize);
    // Offsets from container.h on x86-64: 7 pointers, 2 ints, 2 pointers, an int, 6 bools, then argv.
    const offsets: Record<string, number> = { preserve_fds: 56, listen_fds: 60, output_handler: 64, fifo_exec_wait_fd: 80, systemd_cgroup: 84, no_subreaper: 86, no_pivot: 89, argv: 96, argc: 104, handler_manager: 112 };
    for (const [field, offset] of Object.entries(offsets)) assert.equal(koffi.offsetof(ctx, field), offset, field);
  });
});

/** A detection in which the named backends are usable (the libcrun part is not read by resolveAuto). */
function fakeDetection(usable: Record<'crun-abi' | 'crun-cli' | 'runc', boolean>): HostDetection {
  const backends = Object.fromEntries(
    Object.entries(usable).map(([name, ok]) => [name, { name, usable: ok, reason: ok ? `/usr/bin/${name}` : 'binary missing', problem: ok ? undefined : 'binary-missing' }]),
  ) as unknown as HostDetection['backends'];
  return { libcrun: undefined as unknown as HostDetection['libcrun'], backends };
}

test('one-shot commands prefer the crun CLI over starting a libcrun worker; long-lived processes prefer libcrun', async () => {
  const d = fakeDetection({ 'crun-abi': true, 'crun-cli': true, runc: true });
  const oneShot = await resolveAuto({ backend: 'crun', reason: 'r' }, d, async () => undefined, 'one-shot');
  assert.equal(oneShot.backend, 'crun-cli');
  assert.match(oneShot.reason, /one-shot command: faster than starting a libcrun worker/);
  assert.equal((await resolveAuto({ backend: 'crun', reason: 'r' }, d, async () => undefined, 'long-lived')).backend, 'crun-abi');
  const noCli = fakeDetection({ 'crun-abi': true, 'crun-cli': false, runc: true });
  assert.equal((await resolveAuto({ backend: 'crun', reason: 'r' }, noCli, async () => undefined, 'one-shot')).backend, 'crun-abi');
});
