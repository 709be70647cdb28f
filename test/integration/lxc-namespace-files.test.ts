// Joining namespaces given as files (issue 15 item 3), as Podman's default network does with
// linux.namespaces [{type: network, path: /run/netns/NAME}]: the container must be in exactly the
// namespace the file holds. A netns made with `ip netns add` and ipc and uts namespaces kept by
// `unshare --ipc=FILE --uts=FILE` (bind mounts in a private mount of the test's directory); raw
// crun with the same bundle is the yardstick. Everything is removed at the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH_BIN } from '../helpers/paths.js';
import { runProgram } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { ALL_BACKENDS, missing } from '../helpers/host.js';

const lxcCase = ALL_BACKENDS.find((b) => b.name === 'lxc');
const skip = (lxcCase ? lxcCase.skip : 'lxc is not among BERTH_TEST_BACKENDS') ?? missing('crun', 'ip', 'unshare');

const SUBJECTS = [
  { name: 'berth lxc', argv: (root: string) => [BERTH_BIN, '--root', root, '--runtime', 'lxc'] },
  { name: 'crun', argv: (root: string) => ['crun', '--root', root] },
];

describe('joining namespace files on lxc, beside raw crun', { skip }, () => {
  const tmp = tempDir('berth-lxc-nsfile-');
  const netns = `berth-t${process.pid}-${Date.now() % 100000}`;
  const files = join(tmp.path, 'ns');
  let rootfs = '';
  let seq = 0;
  const readNs = (args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' }).trim();

  before(() => {
    execFileSync('ip', ['netns', 'add', netns]);
    mkdirSync(files);
    // A namespace can be bind-mounted only onto a private mount.
    execFileSync('mount', ['--bind', files, files]);
    execFileSync('mount', ['--make-private', files]);
    for (const t of ['ipc', 'uts']) writeFileSync(join(files, t), '');
    execFileSync('unshare', [`--ipc=${join(files, 'ipc')}`, `--uts=${join(files, 'uts')}`, 'hostname', 'from-the-uts-file']);
    rootfs = join(makeBusyboxBundle(join(tmp.path, 'base')), 'rootfs');
  });
  after(() => {
    for (const t of ['ipc', 'uts']) execFileSync('umount', [join(files, t)]);
    execFileSync('umount', [files]);
    execFileSync('ip', ['netns', 'delete', netns]);
    tmp.remove();
  });

  /** `run` of a bundle joining `paths` (OCI type → path), on each subject: stdout and exit code. */
  async function runJoined(paths: Record<string, string>, script: string) {
    const dir = join(tmp.path, `bundle-${seq++}`);
    mkdirSync(dir);
    execFileSync('ln', ['-s', rootfs, join(dir, 'rootfs')]);
    makeBusyboxBundle(dir, {
      args: ['sh', '-c', script],
      edit: (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (paths[n.type] ? { type: n.type, path: paths[n.type] } : n));
        if (paths.uts) delete c.hostname;
      },
    });
    const out = [];
    for (const s of SUBJECTS) {
      const argv = s.argv(join(tmp.path, `root-${s.name.replace(' ', '-')}`));
      const r = await runProgram(argv[0]!, [...argv.slice(1), 'run', '--bundle', dir, `c${seq}`]);
      out.push({ name: s.name, ...r });
    }
    return out;
  }

  test('a network namespace file (ip netns add): the container is in it and sees its devices', async () => {
    const want = readNs(['ip', 'netns', 'exec', netns, 'readlink', '/proc/self/ns/net']);
    assert.notEqual(want, readNs(['readlink', '/proc/self/ns/net']), 'the netns is not the host\'s');
    for (const r of await runJoined({ network: `/run/netns/${netns}` }, 'readlink /proc/self/ns/net; ls /sys/class/net')) {
      assert.equal(r.code, 0, `${r.name}: ${r.stderr}`);
      assert.equal(r.stdout, `${want}\nlo\n`, `${r.name}: in the netns, with only its loopback device`);
    }
  });

  test('ipc and uts namespace files: the container is in them and has their hostname', async () => {
    const want = ['ipc', 'uts'].map((t) => readNs(['nsenter', `--${t}=${join(files, t)}`, 'readlink', `/proc/self/ns/${t}`]));
    for (const r of await runJoined({ ipc: join(files, 'ipc'), uts: join(files, 'uts') }, 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname')) {
      assert.equal(r.code, 0, `${r.name}: ${r.stderr}`);
      assert.equal(r.stdout, `${want.join('\n')}\nfrom-the-uts-file\n`, r.name);
    }
  });

  test('the /proc/PID/ns/TYPE form still joins the process\'s namespace', async () => {
    const holder = execFileSync('sh', ['-c', `ip netns exec ${netns} sleep 60 >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' }).trim();
    try {
      const want = readNs(['readlink', `/proc/${holder}/ns/net`]);
      for (const r of await runJoined({ network: `/proc/${holder}/ns/net` }, 'readlink /proc/self/ns/net')) {
        assert.equal(r.code, 0, `${r.name}: ${r.stderr}`);
        assert.equal(r.stdout, `${want}\n`, r.name);
      }
    } finally {
      process.kill(Number(holder), 'SIGKILL');
    }
  });
});
