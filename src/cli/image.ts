// berth image import|ls|inspect|rm|prune: parses and prints; the work is src/images.
import { loadConfig } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import type { ImageCache, ImageRecord } from '../images/index.js';
import { flag, formatOption, printJson, printTable, stringOption, type VerbContext } from './context.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const DURATIONS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "500M", "10G", "1234" (bytes; binary units, an optional trailing B or iB). */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--${option} takes a size such as 500M or 10G, got "${text}"`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** "30s", "15m", "12h", "7d", "2w", or a combination such as "1h30m". */
export function parseDuration(text: string, option: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) throw new UsageError(`--${option} takes a duration such as 30m, 12h or 7d, got "${text}"`);
  return parts.reduce((n, p) => n + Number(p[1]) * DURATIONS[p[2]!]!, 0);
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

async function openCache(ctx: VerbContext): Promise<ImageCache> {
  const { config } = await loadConfig(ctx.globals.config);
  const { openImageCache } = await import('../images/index.js');
  return openImageCache({ storage: config.storage });
}

function operand(ctx: VerbContext, sub: string, what: string): string {
  const rest = ctx.operands.slice(1);
  if (rest.length !== 1) throw new UsageError(`image ${sub} takes one ${what}${rest.length ? `, got ${rest.length} operands` : ''} (see: berth image --help)`);
  return rest[0]!;
}

function only(ctx: VerbContext, sub: string, allowed: string[]): void {
  for (const [k, v] of Object.entries(ctx.options)) {
    if (v === undefined || ['help', 'root', 'log', 'log-format', 'debug', 'systemd-cgroup', 'runtime', 'config'].includes(k)) continue;
    if (!allowed.includes(k)) throw new UsageError(`option --${k} does not apply to image ${sub}`);
  }
}

/** A progress line on stderr, only when stderr is a terminal. */
function progress(): ((p: { done: number; total: number; what: string }) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const t = Date.now();
    if (t - last < 100 && p.done < p.total) return;
    last = t;
    const pct = p.total ? Math.floor((p.done / p.total) * 100) : 100;
    process.stderr.write(`\r\x1b[K${p.what}: ${formatSize(p.done)} of ${formatSize(p.total)} (${pct}%)`);
  };
}

function ago(iso: string | undefined): string {
  if (!iso) return '-';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Unknown times as null in JSON, so the keys are always there. */
function forJson(r: ImageRecord): Record<string, unknown> {
  return { ...r, created: r.created ?? null, lastUsed: r.lastUsed ?? null };
}

function refsOf(r: ImageRecord): string {
  return r.refs.length ? r.refs.join(',') : r.parked ? '<parked>' : '<none>';
}

export default async function image(ctx: VerbContext): Promise<void> {
  const sub = ctx.operands[0];
  switch (sub) {
    case 'import': {
      only(ctx, sub, ['name', 'platform']);
      const path = operand(ctx, sub, 'path to an OCI layout (directory or tar)');
      const cache = await openCache(ctx);
      const onProgress = progress();
      const r = await cache.import(path, { name: stringOption(ctx, 'name'), platform: stringOption(ctx, 'platform'), onProgress });
      if (onProgress) process.stderr.write('\r\x1b[K');
      process.stdout.write(`${r.hit ? 'already cached' : 'imported'} ${r.digest}${r.refs.length ? ` (${r.refs.join(', ')})` : ''} ${formatSize(r.size)}\n`);
      return;
    }
    case 'ls':
    case 'list': {
      only(ctx, sub, ['format']);
      if (ctx.operands.length > 1) throw new UsageError('image ls takes no operands');
      const fmt = formatOption(ctx);
      const records = await (await openCache(ctx)).list();
      if (fmt === 'json') {
        printJson(records.map(forJson));
        return;
      }
      printTable(
        ['REF', 'DIGEST', 'SIZE', 'CREATED', 'LAST USED', 'CONTAINERS'],
        records.map((r) => [refsOf(r), r.digest.slice(7, 19), formatSize(r.size), ago(r.created), ago(r.lastUsed), String(r.containers.length)]),
      );
      return;
    }
    case 'inspect': {
      only(ctx, sub, []);
      printJson(forJson(await (await openCache(ctx)).resolve(operand(ctx, sub, 'image ref or digest'))));
      return;
    }
    case 'rm':
    case 'remove': {
      only(ctx, sub, ['force']);
      const ref = operand(ctx, sub, 'image ref or digest');
      const r = await (await openCache(ctx)).remove(ref, { force: flag(ctx, 'force') });
      process.stdout.write(r.parked ? `parked ${r.digest}: it is removed with its last container\n` : `removed ${r.digest}\n`);
      return;
    }
    case 'prune': {
      only(ctx, sub, ['older-than', 'max-size']);
      if (ctx.operands.length > 1) throw new UsageError('image prune takes no operands');
      const olderThan = stringOption(ctx, 'older-than');
      const maxSize = stringOption(ctx, 'max-size');
      const removed = await (await openCache(ctx)).prune({
        olderThan: olderThan === undefined ? undefined : parseDuration(olderThan, 'older-than'),
        maxSize: maxSize === undefined ? undefined : parseSize(maxSize, 'max-size'),
      });
      for (const r of removed) process.stdout.write(`removed ${r.digest} ${refsOf(r)} ${formatSize(r.size)}\n`);
      process.stdout.write(`${removed.length} image${removed.length === 1 ? '' : 's'} removed, ${formatSize(removed.reduce((n, r) => n + r.size, 0))} freed\n`);
      return;
    }
    case undefined:
      throw new UsageError('image needs a subcommand: import, ls, inspect, rm or prune (see: berth image --help)');
    default:
      throw new UsageError(`unknown image subcommand "${sub}": use import, ls, inspect, rm or prune (see: berth image --help)`);
  }
}
