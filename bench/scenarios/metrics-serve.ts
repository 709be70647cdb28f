// berth serve with a thousand containers' worth of records and a full-size journal: how long a
// Prometheus scrape of /metrics takes (every scrape derives the 1000 statuses), against
// /healthz on the same server (the HTTP floor).
import { join } from 'node:path';
import { readProcStat } from '../../src/core/proc.js';
import { ContainerStore } from '../../src/runtime/container-store.js';
import { appendRecord } from '../../src/telemetry/journal.js';
import { tempDir } from '../../test/helpers/bundle.js';
import { freePort, startDaemon } from '../../test/helpers/daemon.js';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { waitFor } from '../../test/helpers/wait.js';
import { iterations } from '../cycle.js';
import { CleanupScope, compare, median, spreadNotes, type Subject } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';
import { berthStateDir } from '../../src/core/state-root.js';

const CONTAINERS = 1000;
const JOURNAL_RECORDS = 20_000;
const TARGET_MS = 100;

export const description =
  `A \`berth serve\` on a root with ${CONTAINERS} container records (half "running" with a live pid, half ` +
  `"stopped") and a journal of ${JOURNAL_RECORDS} operations, read once at start-up. Candidate: \`GET /metrics\` ` +
  '(reads what the journal gained, derives every container\'s status, formats all metrics). Baseline: ' +
  '`GET /healthz` on the same server. Target from issue 7: /metrics in under 100 ms.';

export async function run(): Promise<ScenarioResult> {
  const scope = new CleanupScope();
  try {
    const tmp = tempDir('berth-bench-metrics-');
    scope.add('temp dir', tmp.remove);
    const root = join(tmp.path, 'root');
    const store = new ContainerStore(berthStateDir(root));
    const self = readProcStat(process.pid)!.startTime;
    for (let i = 0; i < CONTAINERS; i++) {
      const id = `bench-${i}`;
      const lock = await store.lockForCreate(id);
      store.write({
        version: 1, id, backend: i % 3 === 0 ? 'runc' : 'crun', backendReason: 'bench', bundle: tmp.path, rootfs: tmp.path,
        created: new Date().toISOString(), owner: 'root', annotations: {},
        // A live pid with its start time: running. A wrong start time: the process is gone, stopped.
        pid: process.pid, pidStartTime: i % 2 === 0 ? self : self + 1, started: true,
      });
      lock.release();
    }
    for (let i = 0; i < JOURNAL_RECORDS; i++) {
      appendRecord(berthStateDir(root), { op: ['create', 'start', 'delete'][i % 3]!, id: `bench-${i % CONTAINERS}`, backend: 'crun', result: i % 50 === 0 ? 'error' : 'ok', code: i % 50 === 0 ? 'BERTH_ERR_EXISTS' : undefined, durationS: 0.01 + (i % 100) / 1000, time: new Date().toISOString() });
    }
    const port = await freePort();
    const serve = startDaemon(BERTH_BIN, ['--root', root, 'serve', '--listen', `127.0.0.1:${port}`], join(tmp.path, 'serve.log'));
    scope.add('berth serve', async () => void (await serve.stop()));
    const url = `http://127.0.0.1:${port}`;
    await waitFor('berth serve', async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000);
    const get = (path: string): Subject => ({
      name: `GET ${path}`,
      run: async () => {
        const r = await fetch(url + path);
        const body = await r.text();
        if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}: ${body.slice(0, 200)}`);
        if (path === '/metrics' && !body.includes('berth_containers{backend="crun",status="running"}')) throw new Error('/metrics lacks berth_containers');
      },
    });
    const c = await compare(get('/healthz'), [get('/metrics')], { iterations: iterations(30), warmup: 3 });
    const ms = median(c.samples.get('GET /metrics')!);
    const verdict = `/metrics median ${ms.toFixed(1)} ms with ${CONTAINERS} containers: ${ms < TARGET_MS ? 'under' : 'OVER'} the ${TARGET_MS} ms target.`;
    return { title: `berth serve: /metrics with ${CONTAINERS} containers vs /healthz`, baseline: c.baseline, candidates: c.candidates, notes: `${verdict} ${spreadNotes(c)}` };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after metrics-serve: ${failures.join('; ')}`);
  }
}
