// berth's Prometheus metrics (prom-client, its own registry): operation counters and durations
// aggregated from the journal, containers counted from their records at scrape time, build
// info and process metrics. docs/metrics.md describes each one.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JournalReader, type JournalRecord } from './journal.js';

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Every status a container can have: each is reported, 0 included, for every backend. */
export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
/** The backend label of an operation that failed before a backend was known. */
export const NO_BACKEND = 'none';

export interface ContainerSummary {
  backend: string;
  status: string;
}

export interface MetricsOptions {
  root: string;
  version: string;
  /** Backends reported with 0 containers when they have none. */
  backends: readonly string[];
  /** The containers of the root, read at each scrape. */
  containers: () => Promise<ContainerSummary[]>;
  /** Node's process metrics (off in unit tests that compare whole outputs). */
  processMetrics?: boolean;
}

export class BerthMetrics {
  readonly registry = new Registry();
  private readonly reader: JournalReader;
  private readonly operations: Counter<'op' | 'backend' | 'result'>;
  private readonly errors: Counter<'op' | 'backend' | 'code'>;
  private readonly durations: Histogram<'op' | 'backend' | 'result'>;
  private readonly corrupt: Counter;
  private readonly records: Counter;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.reader = new JournalReader(options.root);
    this.operations = new Counter({
      name: 'berth_operations_total',
      help: 'Operations berth ran (from the journal), by operation, backend and result (ok or error).',
      labelNames: ['op', 'backend', 'result'],
      registers,
    });
    this.errors = new Counter({
      name: 'berth_operation_errors_total',
      help: 'Failed operations (from the journal), by operation, backend and BERTH_ERR_* code.',
      labelNames: ['op', 'backend', 'code'],
      registers,
    });
    this.durations = new Histogram({
      name: 'berth_operation_duration_seconds',
      help: 'How long operations took (from the journal), by operation, backend and result.',
      labelNames: ['op', 'backend', 'result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.corrupt = new Counter({
      name: 'berth_journal_corrupt_lines_total',
      help: 'Journal lines that were not records (garbage, or lines torn by a crash) and were skipped.',
      registers,
    });
    this.records = new Counter({
      name: 'berth_journal_records_total',
      help: 'Journal records read since berth serve started.',
      registers,
    });
    const byStatus = new Gauge({
      name: 'berth_containers',
      help: 'Containers under berth\'s root, by backend and status (derived at scrape time).',
      labelNames: ['backend', 'status'],
      registers,
      collect: async () => {
        byStatus.reset();
        for (const backend of options.backends) for (const status of CONTAINER_STATUSES) byStatus.set({ backend, status }, 0);
        for (const c of await options.containers()) byStatus.inc({ backend: c.backend, status: c.status });
      },
    });
    new Gauge({ name: 'berth_build_info', help: 'Always 1; the label carries berth\'s version.', labelNames: ['version'], registers }).set({ version: options.version }, 1);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Reads what the journal gained since the last call into the counters. */
  readJournal(): void {
    const { records, corrupt } = this.reader.scan();
    for (const r of records) this.add(r);
    if (corrupt > 0) this.corrupt.inc(corrupt);
    if (records.length > 0) this.records.inc(records.length);
  }

  private add(r: JournalRecord): void {
    const backend = r.backend ?? NO_BACKEND;
    this.operations.inc({ op: r.op, backend, result: r.result });
    this.durations.observe({ op: r.op, backend, result: r.result }, r.duration_s);
    if (r.result === 'error') this.errors.inc({ op: r.op, backend, code: r.code ?? 'BERTH_ERR_INTERNAL' });
  }

  /** The exposition text, after reading the journal. */
  async scrape(): Promise<string> {
    this.readJournal();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
