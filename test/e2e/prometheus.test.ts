// A real Prometheus scrapes a real `berth serve` while the real berth CLI creates, starts and
// deletes containers on crun-cli (one create fails: a duplicate id) and one on crun (auto) with
// the crun CLI made unusable, so that it falls back to runc. The counters Prometheus stored are
// then checked exactly, through its HTTP API.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { freePort, startDaemon, type Daemon } from '../helpers/daemon.js';
import { missing, pathWithout } from '../helpers/host.js';
import { BERTH_BIN } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { berthStateDir } from '../../src/core/state-root.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Series of an instant query as "label=value,…" → number (the __name__ and target labels left out). */
function bySeries(samples: Sample[], labels: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[labels.map((l) => `${l}=${s.metric[l] ?? ''}`).join(',')] = Number(s.value[1]);
  return out;
}

describe('Prometheus scrapes berth serve', { skip: missing('prometheus', 'crun', 'runc', 'busybox') }, () => {
  const tmp = tempDir('berth-prom-');
  const root = join(tmp.path, 'root');
  const daemons: Daemon[] = [];
  let prom = '';
  let bundle = '';
  const b = (args: string[]) => berthOk(root, ['--runtime', 'crun-cli', ...args]);

  const query = async (q: string): Promise<Sample[]> => {
    const r = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
    assert.equal(body.status, 'success', `query ${q}: ${body.error}`);
    return body.data.result;
  };
  /** Waits for a scrape of berth that started after `since` (seconds): it saw every operation before. */
  const scrapedAfter = (since: number) =>
    waitFor(
      `a scrape of berth after ${since}`,
      async () => {
        // timestamp() of the selector itself: of an expression (up == 1) it would be the query's time.
        const [s] = await query('timestamp(up{job="berth"})');
        if (!s || Number(s.value[1]) <= since) return undefined;
        const [up] = await query('up{job="berth"}');
        assert.equal(up?.value[1], '1', `the scrape of berth failed; berth serve said: ${daemons[0]?.output()}`);
        return true;
      },
      30_000,
    );

  before(async () => {
    bundle = makeBusyboxBundle(join(tmp.path, 'bundle'), { args: ['sleep', '300'] });
    const berthPort = await freePort();
    const tokenFile = join(tmp.path, 'token');
    writeFileSync(tokenFile, 'e2e-token\n', { mode: 0o600 });
    const serve = startDaemon(BERTH_BIN, ['--root', root, 'serve', '--listen', `127.0.0.1:${berthPort}`, '--token-file', tokenFile], join(tmp.path, 'serve.log'));
    daemons.push(serve);
    await waitFor('berth serve to be ready', async () => ((await fetch(`http://127.0.0.1:${berthPort}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined));

    const promPort = await freePort();
    writeFileSync(
      join(tmp.path, 'prom.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: berth',
        '    authorization:',
        '      type: Bearer',
        `      credentials_file: ${tokenFile}`,
        '    static_configs:',
        `      - targets: ['127.0.0.1:${berthPort}']`,
        '',
      ].join('\n'),
    );
    const p = startDaemon(
      'prometheus',
      [`--config.file=${join(tmp.path, 'prom.yml')}`, `--storage.tsdb.path=${join(tmp.path, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      join(tmp.path, 'prometheus.log'),
    );
    daemons.push(p);
    prom = `http://127.0.0.1:${promPort}`;
    await waitFor('Prometheus to be ready', async () => ((await fetch(`${prom}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000);
  });

  after(async () => {
    for (const id of ['prom-a', 'prom-b', 'prom-c']) await berth(['--root', root, 'delete', '--force', id]);
    for (const d of daemons.reverse()) await d.stop();
    tmp.remove();
  });

  test('operation counters and container gauges, exactly, after creates, a start, a failed create, a fallback and deletes', async () => {
    await b(['create', '--bundle', bundle, 'prom-a']);
    await b(['create', '--bundle', bundle, 'prom-b']);
    await b(['start', 'prom-a']);
    const dup = await berth(['--root', root, '--runtime', 'crun-cli', 'create', '--bundle', bundle, 'prom-a']);
    assert.equal(dup.code, 5, `a duplicate create fails with BERTH_ERR_EXISTS: ${dup.stderr}`);
    // crun (auto) with no crun on PATH (and so no crun-abi, which needs it): runc, a fallback.
    // (A wrong configured crun path is an error since 0.9, never a route to runc.)
    await berthOk(root, ['create', '--bundle', bundle, 'prom-c'], { env: { ...process.env, PATH: pathWithout(tmp.path, 'crun') } });
    await scrapedAfter(Date.now() / 1000);

    assert.deepEqual(bySeries(await query('berth_operations_total'), ['op', 'backend', 'result']), {
      'op=create,backend=crun-cli,result=ok': 2,
      'op=create,backend=crun-cli,result=error': 1,
      'op=start,backend=crun-cli,result=ok': 1,
      'op=create,backend=runc,result=ok': 1,
    });
    assert.deepEqual(bySeries(await query('berth_backend_fallbacks_total'), ['from', 'to']), { 'from=crun-cli,to=runc': 1 });
    assert.deepEqual(bySeries(await query('berth_backend_selected_info'), ['backend', 'reason']), { 'backend=crun-cli,reason=flag': 2, 'backend=runc,reason=auto': 1 });
    // Per-container figures from the live containers' cgroups. crun's run one task each (sleep, or
    // crun's init waiting to exec it); runc's created container is `runc init`, a Go process
    // with several threads, and pids.current counts threads.
    const pids = bySeries(await query('berth_container_pids'), ['id', 'backend']);
    assert.deepEqual(Object.keys(pids).sort(), ['id=prom-a,backend=crun-cli', 'id=prom-b,backend=crun-cli', 'id=prom-c,backend=runc']);
    assert.deepEqual([pids['id=prom-a,backend=crun-cli'], pids['id=prom-b,backend=crun-cli']], [1, 1]);
    assert.ok(pids['id=prom-c,backend=runc']! >= 1);
    assert.equal((await query('berth_container_memory_bytes > 0')).length, 3);
    assert.equal((await query('berth_container_cpu_seconds_total >= 0')).length, 3);
    // Nothing used images or storage yet: the counters are there, at 0.
    assert.deepEqual(bySeries(await query('berth_image_cache_hits_total + berth_image_cache_misses_total'), []), { '': 0 });
    assert.deepEqual(await query('berth_storage_operations_total'), []);
    assert.deepEqual(bySeries(await query('berth_operation_errors_total'), ['op', 'code']), { 'op=create,code=BERTH_ERR_EXISTS': 1 });
    assert.deepEqual(bySeries(await query('sum by (op, result) (berth_operation_duration_seconds_count)'), ['op', 'result']), {
      'op=create,result=ok': 3,
      'op=create,result=error': 1,
      'op=start,result=ok': 1,
    });
    assert.deepEqual(bySeries(await query('berth_containers{backend="crun-cli"} > 0'), ['status']), { 'status=running': 1, 'status=created': 1 });
    assert.deepEqual(bySeries(await query('sum(berth_containers)'), []), { '': 3 });
    assert.deepEqual(bySeries(await query('berth_journal_corrupt_lines_total'), []), { '': 0 });
    assert.equal((await query('berth_build_info')).length, 1);
    assert.equal((await query('process_resident_memory_bytes{job="berth"}')).length, 1, 'process metrics are scraped');

    await b(['delete', '--force', 'prom-a']);
    await b(['delete', '--force', 'prom-b']);
    await berthOk(root, ['delete', '--force', 'prom-c']);
    await scrapedAfter(Date.now() / 1000);
    assert.deepEqual(bySeries(await query('berth_operations_total{op="delete"}'), ['backend', 'result']), { 'backend=crun-cli,result=ok': 2, 'backend=runc,result=ok': 1 });
    assert.deepEqual(bySeries(await query('sum(berth_operations_total)'), []), { '': 8 });
    assert.deepEqual(bySeries(await query('sum(berth_containers)'), []), { '': 0 });
    assert.deepEqual(await query('berth_backend_selected_info'), [], 'no containers, no selections');
    assert.deepEqual(await query('berth_container_pids'), []);
    assert.deepEqual(bySeries(await query('berth_backend_fallbacks_total'), ['from', 'to']), { 'from=crun-cli,to=runc': 1 }, 'a counter: it stays');
    assert.ok(!existsSync(join(berthStateDir(root), 'containers', 'prom-a')));
  });
});
