import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG_PATH, assertConfigFileExists, defaultConfig, loadConfig } from '../../../src/core/config.js';
import { DEFAULT_STORAGE_DIR, parseConfig } from '../../../src/core/config-schema.js';
import { InvalidConfigError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/bundle.js';

const tmp = tempDir('berth-config-test-');
after(() => tmp.remove());

function file(name: string, text: string): string {
  const path = join(tmp.path, name);
  writeFileSync(path, text);
  return path;
}

function invalid(text: string, ...fragments: string[]): void {
  assert.throws(
    () => parseConfig(text, '/etc/x.toml'),
    (err: unknown) => {
      assert.ok(err instanceof InvalidConfigError, String(err));
      assert.equal(err.code, 'BERTH_ERR_INVALID_CONFIG');
      assert.ok(err.message.startsWith('config file /etc/x.toml'), err.message);
      assert.ok(!err.message.includes('\n'), `message is one line: ${JSON.stringify(err.message)}`);
      for (const f of fragments) assert.ok(err.message.includes(f), `${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
      return true;
    },
  );
}

describe('parseConfig', () => {
  test('an empty file means the defaults', () => {
    assert.deepEqual(parseConfig('', 'x'), defaultConfig());
    assert.deepEqual(defaultConfig(), {
      default_runtime: 'crun',
      routes: [],
      runtimes: {},
      storage: { driver: 'dir', dir: DEFAULT_STORAGE_DIR },
    });
  });

  test('a full config', () => {
    const text = `
default_runtime = "runc"

[[routes]]
id_glob = "web-*"
runtime = "crun"

[[routes]]
id_regex = "^db-[0-9]+$"
runtime = "runc"

[runtimes.crun]
path = "/usr/local/bin/crun"

[runtimes.runc]
`;
    assert.deepEqual(parseConfig(text, 'x'), {
      default_runtime: 'runc',
      routes: [
        { id_glob: 'web-*', runtime: 'crun' },
        { id_regex: '^db-[0-9]+$', runtime: 'runc' },
      ],
      runtimes: { crun: { path: '/usr/local/bin/crun' }, runc: {} },
      storage: { driver: 'dir', dir: DEFAULT_STORAGE_DIR },
    });
  });

  test('[storage]: the dir driver by default, zfs with its parent dataset', () => {
    assert.deepEqual(parseConfig('[storage]\n', 'x').storage, { driver: 'dir', dir: DEFAULT_STORAGE_DIR });
    assert.deepEqual(parseConfig('[storage]\ndir = "/srv/berth"\n', 'x').storage, { driver: 'dir', dir: '/srv/berth' });
    assert.deepEqual(parseConfig('[storage]\ndriver = "zfs"\ndataset = "tank/berth"\n', 'x').storage, {
      driver: 'zfs',
      dataset: 'tank/berth',
      dir: DEFAULT_STORAGE_DIR,
    });
    assert.equal(parseConfig('[storage]\ndriver = "zfs"\ndataset = "rpool"\n', 'x').storage.dataset, 'rpool');
    assert.equal(parseConfig('[storage]\ndriver = "zfs"\ndataset = "rpool/data/berth-1.x:y"\n', 'x').storage.dataset, 'rpool/data/berth-1.x:y');
  });

  test('[storage]: bad values', () => {
    invalid('[storage]\ndriver = "btrfs"', 'storage.driver');
    invalid('[storage]\ndriver = "zfs"', 'storage', 'driver = "zfs" needs a dataset');
    for (const bad of ['', '/tank/berth', 'tank/berth/', 'tank//berth', 'tank/berth@snap', 'tank/../x', 'tank/a b']) {
      invalid(`[storage]\ndriver = "zfs"\ndataset = ${JSON.stringify(bad)}`, 'storage.dataset');
    }
    invalid('[storage]\ndir = "relative/path"', 'storage.dir', 'absolute');
    invalid('[storage]\ndriver = "dir"\npool = "x"', 'storage', '"pool"');
  });

  test('[storage] max_image_size: a size or a number of bytes; anything else names the key', () => {
    assert.equal(parseConfig('[storage]\nmax_image_size = "16G"\n', 'x').storage.max_image_size, 16 * 1024 ** 3);
    assert.equal(parseConfig('[storage]\nmax_image_size = "500MiB"\n', 'x').storage.max_image_size, 500 * 1024 ** 2);
    assert.equal(parseConfig('[storage]\nmax_image_size = 1048576\n', 'x').storage.max_image_size, 1048576);
    assert.equal(parseConfig('[storage]\n', 'x').storage.max_image_size, undefined);
    for (const bad of ['"lots"', '"0"', '0', '-5', '"16 parsecs"']) invalid(`[storage]\nmax_image_size = ${bad}`, 'storage.max_image_size');
  });

  test('backend names are not checked here (the router does that, never falling back)', () => {
    assert.equal(parseConfig('default_runtime = "nope"', 'x').default_runtime, 'nope');
  });

  test('bad TOML', () => {
    invalid('default_runtime = ', 'is not valid TOML');
    invalid('bad = [', 'is not valid TOML');
    invalid('[runtimes.crun\npath = "x"', 'is not valid TOML');
  });

  test('bad TOML names the line and column, and shows the line with a caret', () => {
    assert.throws(() => parseConfig('a = 1\n[storage]\ndriver = "dir\n', '/etc/b.toml'), (err: InvalidConfigError) => {
      assert.match(err.message, /^config file \/etc\/b\.toml is not valid TOML \(line 3, column \d+\): control characters/);
      assert.ok(!err.message.includes('\n'), 'the message stays one line; the excerpt is the detail');
      const lines = (err.detail ?? '').split('\n');
      const column = Number(/column (\d+)/.exec(err.message)![1]);
      // The caret under the end of the unterminated string, where the newline is.
      assert.equal(column, 'driver = "dir'.length + 1);
      assert.deepEqual(lines, ['2 | [storage]', '3 | driver = "dir', `  | ${' '.repeat(column - 1)}^`]);
      return true;
    });
  });

  test('unknown keys, at every level', () => {
    invalid('foo = 1', '(top level)', 'unknown key "foo" (keys here: default_runtime, libcrun_path, routes, runtimes, storage, log, proxmox, limits, registries)');
    invalid('[runtimes.crun]\npaht = "/x"', 'runtimes.crun: unknown key "paht"; did you mean "path"? (keys here: path)');
    invalid('[[routes]]\nid_glob = "a"\nruntime = "crun"\nweight = 3', 'routes.0', '"weight"');
  });

  test('a misspelled key gets the nearest one of its table', () => {
    invalid('default_runtmie = "runc"', '(top level): unknown key "default_runtmie"; did you mean "default_runtime"?');
    invalid('[storage]\ndrvier = "zfs"', 'storage: unknown key "drvier"; did you mean "driver"?');
    invalid('[proxmox]\nvmid_rnage = "100-200"', 'proxmox: unknown key "vmid_rnage"; did you mean "vmid_range"?');
    invalid('[[routes]]\nid_glbo = "a"\nruntime = "crun"', 'routes.0: unknown key "id_glbo"; did you mean "id_glob"?');
    invalid('[storge]\ndriver = "dir"', '(top level): unknown key "storge"; did you mean "storage"?');
  });

  test('wrong types and empty values', () => {
    invalid('default_runtime = 3', 'default_runtime');
    invalid('default_runtime = ""', 'default_runtime');
    invalid('routes = "x"', 'routes');
    invalid('[runtimes.crun]\npath = ""', 'runtimes.crun.path');
    invalid('[runtimes]\ncrun = "x"', 'runtimes.crun');
  });

  test('a route needs a runtime and exactly one matcher', () => {
    invalid('[[routes]]\nid_glob = "a"', 'routes.0.runtime');
    invalid('[[routes]]\nruntime = "crun"', 'routes.0', 'exactly one of id_glob or id_regex');
    invalid('[[routes]]\nid_glob = "a"\nid_regex = "a"\nruntime = "crun"', 'routes.0', 'exactly one of id_glob or id_regex');
  });

  test('an id_regex must compile', () => {
    invalid('[[routes]]\nid_glob = "ok"\nruntime = "crun"\n[[routes]]\nid_regex = "(["\nruntime = "crun"', 'routes.1.id_regex is not a valid regular expression', '([');
  });
});

describe('loadConfig', () => {
  test('--config: reads and validates the file, and names it as the source', async () => {
    const path = file('ok.toml', 'default_runtime = "runc"\n');
    const loaded = await loadConfig(path, {});
    assert.equal(loaded.source, path);
    assert.equal(loaded.config.default_runtime, 'runc');
  });

  test('--config wins over $BERTH_CONFIG', async () => {
    const a = file('a.toml', 'default_runtime = "runc"\n');
    const b = file('b.toml', 'default_runtime = "crun"\n');
    const loaded = await loadConfig(a, { BERTH_CONFIG: b });
    assert.equal(loaded.source, a);
    assert.equal(loaded.config.default_runtime, 'runc');
  });

  test('$BERTH_CONFIG is used without --config', async () => {
    const b = file('env.toml', 'default_runtime = "runc"\n');
    const loaded = await loadConfig(undefined, { BERTH_CONFIG: b });
    assert.equal(loaded.source, b);
    assert.equal(loaded.config.default_runtime, 'runc');
  });

  test('a missing --config or $BERTH_CONFIG file is an error', async () => {
    const missing = join(tmp.path, 'missing.toml');
    for (const [explicit, env] of [[missing, {}], [undefined, { BERTH_CONFIG: missing }]] as const) {
      await assert.rejects(loadConfig(explicit, env), (err: unknown) => {
        assert.ok(err instanceof InvalidConfigError);
        assert.ok(err.message.includes(`cannot read config file ${missing}`), err.message);
        assert.ok(err.cause, 'the fs error is kept as the cause');
        return true;
      });
    }
  });

  test('a directory as config file is an error', async () => {
    await assert.rejects(loadConfig(tmp.path, {}), (err: unknown) => err instanceof InvalidConfigError && err.message.includes('cannot read config file'));
  });

  test('a FIFO as config file is refused before it is read (it would block every verb)', async () => {
    const fifo = join(tmp.path, 'fifo.toml');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(loadConfig(fifo, {}), (err: unknown) => err instanceof InvalidConfigError && err.message === `cannot read config file ${fifo} (given by --config): it is a FIFO (named pipe), not a regular file`);
    assert.throws(() => assertConfigFileExists(fifo), /it is a FIFO \(named pipe\), not a regular file/);
  });

  test('/dev/null is the empty config, the defaults', async () => {
    assert.deepEqual((await loadConfig('/dev/null', {})).config, defaultConfig());
    assertConfigFileExists('/dev/null');
  });

  test('assertConfigFileExists: an explicit --config must be an existing regular file', () => {
    const missing = join(tmp.path, 'nope.toml');
    assert.throws(() => assertConfigFileExists(missing), (err: unknown) => err instanceof InvalidConfigError && err.message === `cannot read config file ${missing} (given by --config): it does not exist`);
    assert.throws(() => assertConfigFileExists(tmp.path), /it is a directory, not a regular file/);
    assertConfigFileExists(file('exists.toml', ''));
  });

  test('[limits] config_json_max_bytes: a positive whole number of bytes', () => {
    assert.equal(parseConfig('[limits]\nconfig_json_max_bytes = 1048576\n', 'x').limits?.config_json_max_bytes, 1048576);
    invalid('[limits]\nconfig_json_max_bytes = 0\n', 'limits.config_json_max_bytes');
    invalid('[limits]\nconfig_json_max_bytes = "4M"\n', 'limits.config_json_max_bytes');
    invalid('[limits]\nconfig_json = 1\n', 'limits', '"config_json"');
  });

  test('[registries]: default, mirrors, insecure, parallel_layers, digest_only; hosts without scheme or path', () => {
    const r = parseConfig('[registries]\ndefault = "registry.example:5000"\nmirrors = { "docker.io" = ["127.0.0.1:5001", "mirror.example"] }\ninsecure = ["127.0.0.1:5001"]\nparallel_layers = 4\ndigest_only = true\n', 'x').registries;
    assert.deepEqual(r, { default: 'registry.example:5000', mirrors: { 'docker.io': ['127.0.0.1:5001', 'mirror.example'] }, insecure: ['127.0.0.1:5001'], parallel_layers: 4, digest_only: true });
    assert.equal(parseConfig('', 'x').registries, undefined);
    invalid('[registries]\ndefault = "https://docker.io"\n', 'registries.default', 'no scheme');
    invalid('[registries]\ninsecure = ["127.0.0.1:5000/v2"]\n', 'registries.insecure.0');
    invalid('[registries]\nmirrors = { "docker.io" = "127.0.0.1:5001" }\n', 'registries.mirrors.docker.io');
    invalid('[registries]\nparallel_layers = 0\n', 'registries.parallel_layers');
    invalid('[registries]\nmirror = {}\n', 'registries', '"mirror"; did you mean "mirrors"?');
  });

  test('an invalid file is an error', async () => {
    const path = file('bad.toml', 'foo = 1\n');
    await assert.rejects(loadConfig(path, {}), (err: unknown) => err instanceof InvalidConfigError && err.message.includes(`config file ${path}`));
  });

  test('no file at all means the defaults', { skip: existsSync(DEFAULT_CONFIG_PATH) ? `${DEFAULT_CONFIG_PATH} exists on this host` : undefined }, async () => {
    const loaded = await loadConfig(undefined, {});
    assert.equal(loaded.source, undefined);
    assert.deepEqual(loaded.config, defaultConfig());
  });
});
