// berth's Prometheus metrics (prom-client, its own registry): operation counters and durations
// aggregated from the journal, containers counted from their records at scrape time, build
// info and process metrics. docs/metrics.md describes each one.
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { cgroupFiles, parseCgroupMounts, readFigures, type CgroupFiles, type CgroupMounts } from './cgroup-figures.js';
import { JournalReader, type JournalEvent, type JournalRecord } from './journal.js';

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Every status a container can have: each is reported, 0 included, for every backend. */
export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
/** The backend label of an operation that failed before a backend was known. */
export const NO_BACKEND = 'none';

export interface ContainerSummary {
  backend: string;
  status: string;
  /** Needed for the per-container cgroup figures and the backend's selection reason. */
  id?: string;
  /** The init pid while the container is alive (created, running, paused); 0 or absent otherwise. */
  pid?: number;
  /** Why the router chose the backend (the record's backendReason). */
  backendReason?: string;
}

/** The reason label of berth_backend_selected_info: a small fixed set. */
export type SelectionReason = 'flag' | 'annotation' | 'route' | 'default' | 'auto' | 'other';

/**
 * Maps a recorded backendReason (free text that names routes, paths and versions) to a
 * low-cardinality label. A choice that went through `crun` (auto) is `auto`, whoever named crun.
 */
export function selectionReason(backendReason: string | undefined): SelectionReason {
  const r = backendReason ?? '';
  if (r.includes('named crun (auto)')) return 'auto';
  if (r.startsWith('--runtime flag')) return 'flag';
  if (r.startsWith('bundle annotation')) return 'annotation';
  if (r.startsWith('config route')) return 'route';
  if (r.startsWith('configured default runtime')) return 'default';
  return 'other';
}

export interface MetricsOptions {
  /** berth's directory in the root (Runtime.stateDir), where the journal is. */
  stateDir: string;
  version: string;
  /** Backends reported with 0 containers when they have none. */
  backends: readonly string[];
  /** The containers of the root, read at each scrape. */
  containers: () => Promise<ContainerSummary[]>;
  /** Node's process metrics (off in unit tests that compare whole outputs). */
  processMetrics?: boolean;
  /**
   * Bytes the image cache takes, read at each scrape (berth_image_cache_bytes). A hook for the
   * images layer: without it (or when it answers undefined) the gauge is not reported.
   */
  imageCacheBytes?: () => Promise<number | undefined>;
  /** /proc/self/mountinfo and /proc, replaceable by tests; default the real ones. */
  mountinfo?: () => string;
  procRoot?: string;
}

export class BerthMetrics {
  readonly registry = new Registry();
  private readonly reader: JournalReader;
  private readonly operations: Counter<'op' | 'backend' | 'result'>;
  private readonly errors: Counter<'op' | 'backend' | 'code'>;
  private readonly durations: Histogram<'op' | 'backend' | 'result'>;
  private readonly corrupt: Counter;
  private readonly records: Counter;
  private readonly storageOps: Counter<'driver' | 'op' | 'result'>;
  private readonly cacheHits: Counter;
  private readonly cacheMisses: Counter;
  private readonly fallbacks: Counter<'from' | 'to'>;
  /** Each live container's cgroup files, by id and pid, from the previous scrape. */
  private cgroupFiles = new Map<string, CgroupFiles>();
  /** This scrape's one read of the container records (scrape() starts a new one). */
  private containerRead: Promise<void> | undefined;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.reader = new JournalReader(options.stateDir);
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
    this.storageOps = new Counter({
      name: 'berth_storage_operations_total',
      help: 'Storage driver operations that change storage (from the journal), by driver, operation and result.',
      labelNames: ['driver', 'op', 'result'],
      registers,
    });
    this.cacheHits = new Counter({ name: 'berth_image_cache_hits_total', help: 'Image lookups answered from the template cache (from the journal).', registers });
    this.cacheMisses = new Counter({ name: 'berth_image_cache_misses_total', help: 'Image lookups that had to import and unpack the image (from the journal).', registers });
    this.fallbacks = new Counter({
      name: 'berth_backend_fallbacks_total',
      help: 'New containers that crun (auto) gave to a later backend because the preferred one was not usable (from the journal).',
      labelNames: ['from', 'to'],
      registers,
    });
    if (options.imageCacheBytes) {
      const bytes = options.imageCacheBytes;
      const cacheBytes = new Gauge({
        name: 'berth_image_cache_bytes',
        help: 'Bytes the image template cache takes in storage (read at scrape time).',
        registers,
        collect: async () => {
          const n = await bytes();
          if (n === undefined) cacheBytes.reset();
          else cacheBytes.set(n);
        },
      });
    }
    // prom-client collects all metrics at once: the container gauges share one read of the
    // records per scrape.
    const collectContainers = (): Promise<void> => (this.containerRead ??= options.containers().then(perContainer));
    const selected = new Gauge({
      name: 'berth_backend_selected_info',
      help: 'Containers under berth\'s root by backend and why it was chosen (flag, annotation, route, default, auto, other).',
      labelNames: ['backend', 'reason'],
      registers,
      collect: collectContainers,
    });
    const cpu = new Gauge({ name: 'berth_container_cpu_seconds_total', help: 'CPU time used by each live container\'s cgroup, in seconds (a counter read from the cgroup).', labelNames: ['id', 'backend'], registers, collect: collectContainers });
    const memory = new Gauge({ name: 'berth_container_memory_bytes', help: 'Memory used by each live container\'s cgroup, in bytes (page cache included).', labelNames: ['id', 'backend'], registers, collect: collectContainers });
    const pids = new Gauge({ name: 'berth_container_pids', help: 'Tasks (processes and threads) in each live container\'s cgroup.', labelNames: ['id', 'backend'], registers, collect: collectContainers });
    const mountinfo = options.mountinfo ?? (() => readFileSync('/proc/self/mountinfo', 'utf8'));
    const perContainer = (containers: ContainerSummary[]): void => {
      byStatus.reset();
      for (const backend of options.backends) for (const status of CONTAINER_STATUSES) byStatus.set({ backend, status }, 0);
      for (const c of containers) byStatus.inc({ backend: c.backend, status: c.status });
      selected.reset();
      cpu.reset();
      memory.reset();
      pids.reset();
      let mounts: CgroupMounts | undefined;
      const seen = new Map<string, CgroupFiles>();
      for (const c of containers) {
        selected.inc({ backend: c.backend, reason: selectionReason(c.backendReason) });
        if (!c.pid || c.id === undefined || c.status === 'stopped' || c.status === 'creating') continue;
        // A container's cgroup does not change while its init lives: found once, then only its figures are read.
        const key = `${c.id}\0${c.pid}`;
        let files = this.cgroupFiles.get(key);
        if (!files) {
          mounts ??= parseCgroupMounts(mountinfo());
          files = cgroupFiles(c.pid, mounts, options.procRoot);
          if (!files) continue;
        }
        seen.set(key, files);
        const figures = readFigures(files);
        const labels = { id: c.id, backend: c.backend };
        if (figures.cpuSeconds !== undefined) cpu.set(labels, figures.cpuSeconds);
        if (figures.memoryBytes !== undefined) memory.set(labels, figures.memoryBytes);
        if (figures.pids !== undefined) pids.set(labels, figures.pids);
      }
      this.cgroupFiles = seen;
    };
    const byStatus = new Gauge({
      name: 'berth_containers',
      help: 'Containers under berth\'s root, by backend and status (derived at scrape time).',
      labelNames: ['backend', 'status'],
      registers,
      collect: collectContainers,
    });
    new Gauge({ name: 'berth_build_info', help: 'Always 1; the label carries berth\'s version.', labelNames: ['version'], registers }).set({ version: options.version }, 1);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Reads what the journal gained since the last call into the counters. */
  readJournal(): void {
    const { records, events, corrupt } = this.reader.scan();
    for (const r of records) this.add(r);
    for (const e of events) this.addEvent(e);
    if (corrupt > 0) this.corrupt.inc(corrupt);
    if (records.length + events.length > 0) this.records.inc(records.length + events.length);
  }

  private addEvent(e: JournalEvent): void {
    switch (e.kind) {
      case 'storage':
        this.storageOps.inc({ driver: e.driver, op: e.op, result: e.result });
        break;
      case 'image-cache':
        (e.result === 'hit' ? this.cacheHits : this.cacheMisses).inc();
        break;
      case 'fallback':
        this.fallbacks.inc({ from: e.from, to: e.to });
        break;
    }
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
    this.containerRead = undefined;
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
