// berth serve as a user runs it: the real CLI on a temp root, over HTTP. It keeps serving a
// corrupted or truncated journal (and counts what it skipped), and SIGTERM stops it cleanly.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readProcStat } from '../../src/core/proc.js';
import { ContainerStore } from '../../src/runtime/container-store.js';
import { appendRecord, journalDir, segmentName } from '../../src/telemetry/journal.js';
import { tempDir } from '../helpers/bundle.js';
import { freePort, startDaemon, type Daemon } from '../helpers/daemon.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function serve(root: string, logFile: string, extra: string[] = []): Promise<{ daemon: Daemon; url: string }> {
  const port = await freePort();
  const daemon = startDaemon(BERTH_BIN, ['--root', root, 'serve', '--listen', `127.0.0.1:${port}`, ...extra], logFile);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('berth serve to answer /readyz', async () => {
    if (/level=error/.test(daemon.output())) throw new Error(`berth serve failed: ${daemon.output()}`);
    return (await fetch(url + '/readyz').catch(() => undefined))?.status === 200 || undefined;
  });
  return { daemon, url };
}

describe('berth serve', () => {
  const tmp = tempDir('berth-serve-');
  const daemons: Daemon[] = [];
  after(async () => {
    for (const d of daemons) await d.stop();
    tmp.remove();
  });

  test('answers /metrics over a corrupted and truncated journal, counting the bad lines; SIGTERM stops it', async () => {
    const root = join(tmp.path, 'corrupt');
    const at = new Date().toISOString();
    appendRecord(berthStateDir(root), { op: 'create', id: 'a', backend: 'crun', result: 'ok', code: undefined, durationS: 0.01, time: at });
    const seg = join(journalDir(berthStateDir(root)), segmentName(1));
    appendFileSync(seg, '\u0000\u0000garbage from a bad disk\n{"v":1,"op":"start"\n');
    appendRecord(berthStateDir(root), { op: 'start', id: 'a', backend: 'crun', result: 'ok', code: undefined, durationS: 0.01, time: at });
    appendFileSync(seg, '{"v":1,"time":"2026-11-2'); // truncated by a crash
    // A stray file in the journal directory is not a segment and is ignored.
    writeFileSync(join(journalDir(berthStateDir(root)), 'notes.txt'), 'hello');
    mkdirSync(join(berthStateDir(root), 'containers'), { recursive: true });
    const { daemon, url } = await serve(root, join(tmp.path, 'corrupt.log'));
    daemons.push(daemon);
    // serve read the journal once at start; the torn tail is counted at the next read that finds it unchanged.
    const r = await fetch(url + '/metrics');
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.equal(sample(text, 'berth_operations_total{op="create",backend="crun",result="ok"}'), 1);
    assert.equal(sample(text, 'berth_operations_total{op="start",backend="crun",result="ok"}'), 1);
    assert.equal(sample(text, 'berth_journal_corrupt_lines_total'), 3);
    assert.match(text, /^process_cpu_seconds_total \d/m, 'process metrics are there');
    assert.match(text, /^berth_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
    // More garbage while it runs: still serving.
    appendFileSync(seg, 'x'.repeat(100_000) + '\n');
    const again = await fetch(url + '/metrics');
    assert.equal(again.status, 200);
    assert.equal(sample(await again.text(), 'berth_journal_corrupt_lines_total'), 4);
    assert.equal((await fetch(url + '/healthz')).status, 200);
    assert.equal(await daemon.stop(), 0, 'SIGTERM ends berth serve with exit code 0');
    assert.match(daemon.output(), /stopped on SIGTERM/);
  });

  test('a thousand containers\' records: every one counted, live ones with their cgroup figures; still serving after more damage', async () => {
    const root = join(tmp.path, 'thousand');
    const store = new ContainerStore(berthStateDir(root));
    const self = readProcStat(process.pid)!.startTime;
    const backends = ['crun-cli', 'runc', 'crun-abi'];
    let live = 0;
    for (let i = 0; i < 1000; i++) {
      const id = `many-${i}`;
      const alive = i % 4 === 0;
      if (alive) live += 1;
      const lock = await store.lockForCreate(id);
      store.write({
        version: 1, id, backend: backends[i % 3]!, backendReason: i % 2 ? '--runtime flag' : 'configured default runtime named crun (auto): chose crun-cli',
        bundle: tmp.path, rootfs: tmp.path, created: new Date().toISOString(), owner: 'root', annotations: {},
        // This test process stands in for the live containers' init; a wrong start time means gone.
        pid: process.pid, pidStartTime: alive ? self : self + 1, started: true,
      });
      lock.release();
    }
    for (let i = 0; i < 2000; i++) appendRecord(berthStateDir(root), { op: 'create', id: `many-${i % 1000}`, backend: 'runc', result: 'ok', code: undefined, durationS: 0.01, time: new Date().toISOString() });
    const { daemon, url } = await serve(root, join(tmp.path, 'thousand.log'));
    daemons.push(daemon);
    const text = await (await fetch(url + '/metrics')).text();
    const total = (name: string): number => text.split('\n').filter((l) => l.startsWith(name + '{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    assert.equal(total('berth_containers'), 1000);
    assert.equal(sample(text, 'berth_containers{backend="runc",status="running"}'), [...Array(1000).keys()].filter((i) => i % 3 === 1 && i % 4 === 0).length);
    assert.equal(total('berth_backend_selected_info'), 1000);
    assert.equal(sample(text, 'berth_backend_selected_info{backend="runc",reason="flag"}'), [...Array(1000).keys()].filter((i) => i % 3 === 1 && i % 2 === 1).length);
    assert.equal(text.split('\n').filter((l) => l.startsWith('berth_container_memory_bytes{')).length, live, 'a memory figure for each live container');
    assert.equal(sample(text, 'berth_operations_total{op="create",backend="runc",result="ok"}'), 2000);
    appendFileSync(join(journalDir(berthStateDir(root)), segmentName(1)), '{"v":1,"kind":"storage","op":\n\u0000\n');
    const again = await fetch(url + '/metrics');
    assert.equal(again.status, 200);
    assert.equal(sample(await again.text(), 'berth_journal_corrupt_lines_total'), 2);
  });

  test('--token-file: /metrics needs the token; the token never shows in the log', async () => {
    const root = join(tmp.path, 'token');
    const tokenFile = join(tmp.path, 'token.txt');
    writeFileSync(tokenFile, 'not-in-the-log-4711\n', { mode: 0o600 });
    const logFile = join(tmp.path, 'token.log');
    const { daemon, url } = await serve(root, logFile, ['--debug', '--token-file', tokenFile]);
    daemons.push(daemon);
    assert.equal((await fetch(url + '/metrics')).status, 401);
    assert.equal((await fetch(url + '/metrics', { headers: { authorization: 'Bearer not-in-the-log-4711' } })).status, 200);
    assert.equal(await daemon.stop(), 0);
    assert.doesNotMatch(daemon.output(), /not-in-the-log-4711/);
  });

  test('--listen unix:/PATH serves on a unix socket, removed again on SIGTERM', async () => {
    const root = join(tmp.path, 'unix');
    const sock = join(tmp.path, 'metrics.sock');
    const daemon = startDaemon(BERTH_BIN, ['--root', root, 'serve', '--listen', `unix:${sock}`], join(tmp.path, 'unix.log'));
    daemons.push(daemon);
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ socketPath: sock, path }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    await waitFor('berth serve on its unix socket', async () => ((await get('/readyz').catch(() => undefined))?.status === 200 ? true : undefined));
    const r = await get('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body, /^berth_containers\{backend="crun",status="running"\} 0$/m);
    assert.match(daemon.output(), new RegExp(`serving metrics on unix:${sock}`));
    assert.equal(await daemon.stop(), 0);
    assert.equal(existsSync(sock), false, 'the socket is removed');
  });

  test('a --listen without a host, or an unreadable token file, is refused before listening', async () => {
    const { berth } = await import('../helpers/berth.js');
    const root = join(tmp.path, 'bad');
    let r = await berth(['--root', root, 'serve', '--listen', ':9190']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /--listen takes HOST:PORT/);
    r = await berth(['--root', root, 'serve', '--token-file', join(tmp.path, 'missing')]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /--token-file .* cannot be read/);
  });
});
