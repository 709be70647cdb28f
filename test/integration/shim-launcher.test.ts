// The shim launcher's fast paths (bin/containerd-shim-berth-v2, a shell script): `start` with an
// engine alive and `delete` of a task whose record is gone are answered without Node. The PATH
// given holds the few tools the script uses and no node, so a fall back to the Node entry fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { DeleteResponseSchema } from '../../src/shim/proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { shimPaths } from '../../src/shim/paths.js';
import { tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { REPO_ROOT } from '../helpers/paths.js';

const LAUNCHER = join(REPO_ROOT, 'bin/containerd-shim-berth-v2');
const TOOLS = ['sh', 'readlink', 'sha256sum', 'cat', 'tr', 'flock', 'mkdir', 'date', 'wc'];

describe('shim launcher fast paths (no Node)', { skip: missing(...TOOLS) }, () => {
  const tmp = tempDir('berth-shim-launcher-');
  after(() => tmp.remove());
  const bin = join(tmp.path, 'bin');
  mkdirSync(bin);
  for (const t of TOOLS) symlinkSync(spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), join(bin, t));
  const dir = join(tmp.path, 'shim');
  const env = { PATH: bin, BERTH_SHIM_DIR: dir };
  const common = ['-namespace', 'ns1', '-address', '/run/containerd/containerd.sock', '-publish-binary', '/usr/bin/containerd', '-id'];
  const shim = (args: string[], cwd = tmp.path) => spawnSync('/bin/sh', [LAUNCHER, ...args], { env, cwd, encoding: 'buffer' });

  test('the socket is where src/shim/paths.ts puts it', () => {
    const hash = createHash('sha256').update('/run/containerd/containerd.sock\0ns1').digest('hex');
    assert.equal(shimPaths('/run/containerd/containerd.sock', 'ns1', env).socket, join(dir, 's', hash));
  });

  test('start with a live engine: the address on stdout and in ./address, the task marked pending', async (t) => {
    const paths = shimPaths('/run/containerd/containerd.sock', 'ns1', env);
    mkdirSync(join(dir, 's'), { recursive: true });
    const server = createServer().listen(paths.socket);
    await new Promise((r) => server.once('listening', r));
    t.after(() => server.close());
    // Something alive whose command line names the socket, as the engine's does.
    const engine = spawn('sh', ['-c', 'sleep 30', 'sh', '-socket', paths.socket], { stdio: 'ignore', detached: true });
    const stop = (): void => {
      try {
        process.kill(-engine.pid!, 'SIGKILL'); // sh and its sleep
      } catch {
        // gone
      }
    };
    t.after(stop);
    writeFileSync(`${paths.socket}.pid`, `${engine.pid}\n`);
    const bundle = join(tmp.path, 'bundle1');
    mkdirSync(bundle);
    const r = shim([...common, 'task1', 'start'], bundle);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), `unix://${paths.socket}`);
    assert.equal(r.stderr.toString(), '');
    assert.equal(readFileSync(join(bundle, 'address'), 'utf8'), `unix://${paths.socket}`);
    assert.ok(existsSync(join(`${paths.socket}.pending`, 'task1')));
    // A dead engine (its pid file names a process that is gone): the Node entry's, which is not on this PATH.
    const exited = new Promise((r) => engine.once('exit', r));
    stop();
    await exited;
    const dead = shim([...common, 'task2', 'start'], bundle);
    assert.notEqual(dead.status, 0);
    // Only the fall back's own words: the script's checks print nothing (containerd reads start's
    // stdout and stderr together as the address).
    assert.match(dead.stderr.toString(), /^[^\n]*node: not found\n$/);
  });

  test('delete of a task without a record: a DeleteResponse with 137 and the time, as containerd decodes it', () => {
    const before = Date.now();
    const r = shim([...common, 'gone', '-bundle', tmp.path, 'delete']);
    assert.equal(r.status, 0, r.stderr.toString());
    const resp = fromBinary(DeleteResponseSchema, new Uint8Array(r.stdout));
    assert.equal(resp.exitStatus, 137);
    assert.equal(resp.pid, 0);
    const at = Number(resp.exitedAt!.seconds) * 1000 + resp.exitedAt!.nanos / 1e6;
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `exited_at ${new Date(at).toISOString()}`);
  });

  test('a task with a record, -debug, or a bad id go to the Node entry', () => {
    mkdirSync(join(dir, 'ns', 'ns1', '@berth', 'containers', 'kept'), { recursive: true });
    for (const args of [[...common, 'kept', 'delete'], [...common, 'x', '-debug', 'start'], [...common, '../x', 'start']]) {
      const r = shim(args);
      assert.match(r.stderr.toString(), /node: not found/, args.join(' '));
    }
  });
});
