// A typed wrapper over the `zfs` and `zpool` commands, for OpenZFS 2.x and zfs-fuse 0.7 alike:
// - no `zfs list -p` (zfs-fuse lacks it): exact values come from `zfs get -H -p`, names from
//   `zfs list -H -o name`;
// - one property per `zfs set` (zfs-fuse takes one);
// - `dataset is busy` / `pool is busy` (and an unmount's `target is busy`) right after use is
//   transient: the command is tried again after a short, bounded backoff. Every other failure
//   surfaces at once as a ToolError carrying the tool's stderr.
import { sleep as realSleep } from '../../core/clock.js';
import { ToolError } from '../../core/errors.js';
import { runTool, type ToolRunner } from '../../core/exec.js';

export interface ZfsCliOptions {
  /** How commands run (tests pass a fake); default core/exec runTool. */
  run?: ToolRunner;
  sleep?: (ms: number) => Promise<void>;
  /** Pauses between tries of a busy command; tries = length + 1. Default about 2.5 s in all. */
  busyDelaysMs?: readonly number[];
  zfs?: string;
  zpool?: string;
}

export const DEFAULT_BUSY_DELAYS_MS: readonly number[] = [50, 100, 200, 400, 800, 1000];

/** What a failed zfs/zpool command said, as far as berth cares. */
export type ZfsFailure =
  | 'busy'
  | 'missing'
  | 'missing-parent'
  | 'no-pool'
  | 'exists'
  | 'no-space'
  | 'has-clones'
  | 'has-children'
  | 'newer-snapshots'
  | 'other';

const BUSY = /\b(dataset|pool|target) is busy\b/i;

export function classifyZfsStderr(stderr: string): ZfsFailure {
  if (BUSY.test(stderr)) return 'busy';
  if (/no such pool/i.test(stderr)) return 'no-pool';
  if (/parent does not exist/i.test(stderr)) return 'missing-parent';
  if (/dataset does not exist/i.test(stderr)) return 'missing';
  if (/already exists/i.test(stderr)) return 'exists';
  if (/out of space|no space left/i.test(stderr)) return 'no-space';
  if (/dependent clones/i.test(stderr)) return 'has-clones';
  if (/has children/i.test(stderr)) return 'has-children';
  if (/more recent snapshots/i.test(stderr)) return 'newer-snapshots';
  return 'other';
}

/** The failure kind of an error thrown by ZfsCli (`other` for anything else). */
export function zfsFailure(err: unknown): ZfsFailure {
  return err instanceof ToolError ? classifyZfsStderr(err.stderr) : 'other';
}

export interface PropertyValue {
  /** As printed by `zfs get -p`; `-` means none. */
  value: string;
  /** `local`, `default`, `inherited from X`, `-`, … */
  source: string;
}

/** dataset → property → value, in the order zfs printed the datasets. */
export type PropertyTable = Map<string, Map<string, PropertyValue>>;

export class ZfsCli {
  private readonly run: ToolRunner;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly delays: readonly number[];
  readonly zfsBin: string;
  readonly zpoolBin: string;

  constructor(options: ZfsCliOptions = {}) {
    this.run = options.run ?? runTool;
    this.sleep = options.sleep ?? realSleep;
    this.delays = options.busyDelaysMs ?? DEFAULT_BUSY_DELAYS_MS;
    this.zfsBin = options.zfs ?? 'zfs';
    this.zpoolBin = options.zpool ?? 'zpool';
  }

  /** Runs a command, retrying only while it answers "busy"; resolves to stdout. */
  async exec(argv: readonly string[]): Promise<string> {
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      const r = await this.run(argv);
      if (r.exitCode === 0) return r.stdout;
      const stderr = r.stderr.trim();
      const said = stderr.split('\n').filter(Boolean).join('; ') || `exit ${r.exitCode ?? r.signal}`;
      const busy = BUSY.test(stderr);
      if (busy && attempt < this.delays.length) {
        await this.sleep(this.delays[attempt]!);
        continue;
      }
      const still = busy && attempt > 0 ? ` (still busy after ${attempt + 1} tries in ${Date.now() - t0} ms)` : '';
      throw new ToolError(`${argv.join(' ')}: ${said}${still}`, { exitCode: r.exitCode, stderr: r.stderr, argv });
    }
  }

  private zfs(...args: string[]): Promise<string> {
    return this.exec([this.zfsBin, ...args]);
  }

  // --- datasets ----------------------------------------------------------------------------

  async create(name: string, options: { parents?: boolean; properties?: Record<string, string> } = {}): Promise<void> {
    await this.zfs('create', ...(options.parents ? ['-p'] : []), ...propertyArgs(options.properties), name);
  }

  /** `recursive` takes snapshots and children too (-r); dependent clones elsewhere still refuse it. */
  async destroy(name: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.zfs('destroy', ...(options.recursive ? ['-r'] : []), name);
  }

  /** Whether a dataset or snapshot exists; a missing pool counts as missing. */
  async exists(name: string): Promise<boolean> {
    try {
      await this.zfs('get', '-H', '-o', 'name', 'type', name);
      return true;
    } catch (err) {
      const f = zfsFailure(err);
      if (f === 'missing' || f === 'no-pool') return false;
      throw err;
    }
  }

  /** Names under `root` (itself included for filesystems), as `zfs list -H -o name`. */
  async list(root: string, options: { type?: 'filesystem' | 'snapshot' | 'all'; depth?: number } = {}): Promise<string[]> {
    const out = await this.zfs(
      'list',
      '-H',
      '-o',
      'name',
      '-t',
      options.type ?? 'filesystem',
      ...(options.depth !== undefined ? ['-d', String(options.depth)] : []),
      '-r',
      root,
    );
    return out.split('\n').filter(Boolean);
  }

  /** Exact (`-p`) values; `recursive`/`depth` walk the children and snapshots of `names`. */
  async get(names: readonly string[], properties: readonly string[], options: { recursive?: boolean; depth?: number } = {}): Promise<PropertyTable> {
    const out = await this.zfs(
      'get',
      '-H',
      '-p',
      ...(options.recursive || options.depth !== undefined ? ['-r'] : []),
      ...(options.depth !== undefined ? ['-d', String(options.depth)] : []),
      '-o',
      'name,property,value,source',
      properties.join(','),
      ...names,
    );
    return parseGet(out);
  }

  /** One property's value, or undefined when it is unset (`-`). */
  async getOne(name: string, property: string): Promise<string | undefined> {
    const v = (await this.get([name], [property])).get(name)?.get(property)?.value;
    return v === undefined || v === '-' ? undefined : v;
  }

  async set(name: string, property: string, value: string): Promise<void> {
    await this.zfs('set', `${property}=${value}`, name);
  }

  async inherit(name: string, property: string): Promise<void> {
    await this.zfs('inherit', property, name);
  }

  async snapshot(snapshot: string): Promise<void> {
    await this.zfs('snapshot', snapshot);
  }

  async clone(snapshot: string, target: string, options: { properties?: Record<string, string> } = {}): Promise<void> {
    await this.zfs('clone', ...propertyArgs(options.properties), snapshot, target);
  }

  async promote(name: string): Promise<void> {
    await this.zfs('promote', name);
  }

  /** `destroyNewer` (-r) destroys the snapshots taken after this one. */
  async rollback(snapshot: string, options: { destroyNewer?: boolean } = {}): Promise<void> {
    await this.zfs('rollback', ...(options.destroyNewer ? ['-r'] : []), snapshot);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.zfs('rename', from, to);
  }

  async mount(name: string): Promise<void> {
    await this.zfs('mount', name);
  }

  async unmount(name: string): Promise<void> {
    await this.zfs('umount', name);
  }

  // --- pools -------------------------------------------------------------------------------

  async poolExists(pool: string): Promise<boolean> {
    try {
      await this.exec([this.zpoolBin, 'list', '-H', '-o', 'name', pool]);
      return true;
    } catch (err) {
      if (/no such pool/i.test(err instanceof ToolError ? err.stderr : '')) return false;
      throw err;
    }
  }

  async poolList(): Promise<string[]> {
    const out = await this.exec([this.zpoolBin, 'list', '-H', '-o', 'name']);
    // "no pools available" goes to stdout on some versions.
    return out.split('\n').filter((l) => l && !/^no pools available/.test(l));
  }

  /** `zpool create -m MOUNTPOINT POOL VDEV…` (tests and doctor use it; berth never makes pools). */
  async poolCreate(pool: string, vdevs: readonly string[], options: { mountpoint?: string } = {}): Promise<void> {
    await this.exec([this.zpoolBin, 'create', ...(options.mountpoint ? ['-m', options.mountpoint] : []), pool, ...vdevs]);
  }

  async poolDestroy(pool: string): Promise<void> {
    await this.exec([this.zpoolBin, 'destroy', pool]);
  }
}

function propertyArgs(properties: Record<string, string> | undefined): string[] {
  return Object.entries(properties ?? {}).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** Lines `name<TAB>property<TAB>value<TAB>source`; a value may itself hold tabs. */
export function parseGet(out: string): PropertyTable {
  const table: PropertyTable = new Map();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const fields = line.split('\t');
    if (fields.length < 4) throw new ToolError(`unexpected line from zfs get: ${JSON.stringify(line)}`, { exitCode: 0, stderr: '' });
    const name = fields[0]!;
    const property = fields[1]!;
    const source = fields[fields.length - 1]!;
    const value = fields.slice(2, -1).join('\t');
    let row = table.get(name);
    if (!row) table.set(name, (row = new Map()));
    row.set(property, { value, source });
  }
  return table;
}
