// Progress on a terminal: `stop` says what it sent and how long it has waited, an image import
// draws a bar with bytes and rate; none of it when stderr is piped or the log is JSON (a client
// reading stderr sees berth's words only). The terminal is a real pseudo-terminal (script(1)).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { buildBusyboxOciArchive } from '../helpers/oci-image.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { onTerminalOk } from '../helpers/terminal.js';

describe('progress on a terminal', { skip: missing('crun', 'busybox', 'script') }, () => {
  const tmp = tempDir('berth-progress-');
  const root = join(tmp.path, 'root');
  const config = join(tmp.path, 'config.toml');
  writeFileSync(config, `default_runtime = "crun-cli"\n[storage]\ndriver = "dir"\ndir = "${join(tmp.path, 'storage')}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
  const cli = (...args: string[]) => [BERTH_BIN, '--root', root, '--config', config, ...args];
  after(async () => {
    await berth(['--root', root, 'delete', '--force', 'p-stop']);
    tmp.remove();
  });

  // sleep as the container's init ignores TERM (no handler, pid 1): stop waits its whole timeout.
  const running = async (): Promise<void> => {
    await berth(['--root', root, 'delete', '--force', 'p-stop']);
    await berthOk(root, ['--config', config, 'run', '-d', '--bundle', makeBusyboxBundle(join(tmp.path, 'bundle'), { args: ['sleep', '300'] }), 'p-stop']);
  };

  test('stop: what it sent and how long it has waited, then the line is cleared', async () => {
    await running();
    const out = await onTerminalOk(cli('stop', '-t', '2', 'p-stop'));
    assert.match(out, /stopping p-stop: sent TERM, waiting 1 s of 2 s, then KILL/, JSON.stringify(out));
    assert.ok(out.endsWith('\r\x1b[K'), `the line is cleared at the end: ${JSON.stringify(out.slice(-40))}`);
    assert.equal(JSON.parse(await berthOk(root, ['state', 'p-stop'])).status, 'stopped');
    await berthOk(root, ['delete', 'p-stop']);
  });

  test('stop piped, or with a JSON log: no progress', async () => {
    await running();
    const piped = await berth(['--root', root, '--config', config, 'stop', '-t', '1', 'p-stop']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '');
    await berthOk(root, ['delete', 'p-stop']);
    await running();
    const json = await onTerminalOk(cli('--log-format', 'json', 'stop', '-t', '1', 'p-stop'));
    assert.doesNotMatch(json, /stopping|\x1b\[K/);
    await berthOk(root, ['delete', 'p-stop']);
  });

  test('image import: a bar with bytes, percentage and rate on a terminal; nothing when piped', async () => {
    const archive = buildBusyboxOciArchive(join(tmp.path, 'image'));
    const out = await onTerminalOk(cli('image', 'import', archive.file, '--name', 'p:1'));
    assert.match(out, /layer 1\/1 [0-9a-f]+.*\[#{20}\] [\d.]+ (B|KiB|MiB) of [\d.]+ (B|KiB|MiB) \(100%/, JSON.stringify(out));
    assert.match(out, /\r\x1b\[Kimported sha256:[0-9a-f]{64} \(p:1\)/, 'cleared before the result line');
    const piped = await berth(['--root', root, '--config', config, 'image', 'import', archive.file, '--name', 'p:2']);
    assert.equal(piped.stderr, '');
  });
});
