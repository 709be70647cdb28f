// berth image pull|push|import|ls|inspect|rm|prune: parses and prints; the work is src/images.
import { UsageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { readableRecords, volumeReports } from '../runtime/container-volume.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ImageCache, ImageRecord } from '../images/index.js';
import { flag, formatOption, openRuntime, printJson, printTable, stringOption, type VerbContext } from './context.js';
import { bytesProgress, whileSlow } from './progress.js';
import { formatSize, parseDuration, parseSize } from './units.js';
import { GLOBAL_OPTIONS, subcommandOf, unknownSubcommand, VERBS } from './verbs.js';

/** The cache through the runtime, journal attached: this call's storage operations and cache events reach `berth serve`. */
async function openCache(ctx: VerbContext): Promise<ImageCache> {
  return (await openRepairing(ctx, undefined)).images();
}

/**
 * A change to the cache as one observed operation (`image-pull`, …): counted in
 * berth_operations_total and journalled, and its log lines carry that op.
 */
async function observed<T>(ctx: VerbContext, sub: string, subject: string, repairFirst: boolean, fn: (cache: ImageCache) => Promise<T>): Promise<T> {
  const op = `image-${sub}`;
  const runtime = await openRepairing(ctx, repairFirst ? op : undefined);
  return runtime.observe(op, subject, async () => fn(await runtime.images()));
}

/**
 * The runtime, journal attached; with `op`, this root's container volumes that no record names
 * (left by a killed create) are removed first, so the verb never counts a container that is not there.
 */
async function openRepairing(ctx: VerbContext, op: string | undefined): Promise<Runtime> {
  const runtime = await openRuntime(ctx);
  await runtime.attachJournal();
  if (op !== undefined) await (await import('../runtime/orphan-volumes.js')).removeOrphanVolumes(runtime, op);
  return runtime;
}

function operand(ctx: VerbContext, sub: string, what: string): string {
  const rest = ctx.operands.slice(1);
  if (rest.length !== 1) throw new UsageError(`image ${sub} takes one ${what}${rest.length ? `, got ${rest.length} operands` : ''} (see: berth image --help)`);
  return rest[0]!;
}

/** The subcommand's options are the verb table's (src/cli/verbs.ts); any other of the verb's is refused. */
function only(ctx: VerbContext, sub: string): void {
  const allowed = VERBS.image!.subcommands![sub]!.options;
  for (const [k, v] of Object.entries(ctx.options)) {
    if (v === undefined || Object.hasOwn(GLOBAL_OPTIONS, k)) continue;
    if (!allowed.includes(k)) throw new UsageError(`option --${k} does not apply to image ${sub}`);
  }
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
  return { ...r, created: r.created ?? null, lastUsed: r.lastUsed ?? null, source: r.source ?? null };
}

/**
 * Warnings (stderr) for volumes that are not as they should be: unmounted ones of any root in
 * this storage, and this root's containers whose volume is missing (only a record knows that).
 */
async function warnVolumes(runtime: Runtime, records: ImageRecord[]): Promise<void> {
  for (const r of records) {
    for (const v of r.containerVolumes) {
      if (!v.mounted) await log('warn', `image ${r.digest.slice(7, 19)}: container volume ${v.volume} (container "${v.id}") is not mounted`, { op: 'image-ls', id: v.id });
    }
  }
  const own = (await volumeReports(runtime, readableRecords(runtime))).values();
  for (const p of own) if (p.health === 'missing' || p.health === 'unreachable') await log('warn', `container "${p.id}": ${p.problem}`, { op: 'image-ls', id: p.id });
}

/** The pulled ref with the digest it resolved to (short), and the mirror that served it. */
function sourceOf(s: NonNullable<ImageRecord['source']>): string {
  const pinned = s.ref.includes('@') ? s.ref : `${s.ref}@${s.digest.slice(0, 19)}`;
  return s.mirror ? `${pinned} (via ${s.mirror})` : pinned;
}

function refsOf(r: ImageRecord): string {
  return r.refs.length ? r.refs.join(',') : r.parked ? '<parked>' : '<none>';
}

export default async function image(ctx: VerbContext): Promise<void> {
  const sub = subcommandOf('image', ctx.operands[0]);
  if (sub === undefined) throw unknownSubcommand('image', ctx.operands[0]);
  switch (sub) {
    case 'import': {
      only(ctx, sub);
      const path = operand(ctx, sub, 'path to an OCI layout (directory or tar)');
      const progress = bytesProgress(ctx);
      const r = await observed(ctx, sub, path, false, (cache) => cache.import(path, { name: stringOption(ctx, 'name'), platform: stringOption(ctx, 'platform'), onProgress: progress?.onProgress })).finally(() => progress?.clear());
      process.stdout.write(`${r.hit ? 'already cached' : 'imported'} ${r.digest}${r.refs.length ? ` (${r.refs.join(', ')})` : ''} ${formatSize(r.size)}\n`);
      return;
    }
    case 'pull': {
      only(ctx, sub);
      const ref = operand(ctx, sub, 'image reference ([REGISTRY/]REPO[:TAG|@sha256:DIGEST])');
      const progress = bytesProgress(ctx);
      const tlsVerify = ctx.options['tls-verify'];
      const r = await observed(ctx, sub, ref, false, (cache) =>
        cache.pull(ref, { platform: stringOption(ctx, 'platform'), creds: stringOption(ctx, 'creds'), tlsVerify: tlsVerify === undefined ? undefined : tlsVerify === true, digestOnly: flag(ctx, 'digest-only') || undefined, onProgress: progress?.onProgress }),
      ).finally(() => progress?.clear());
      process.stdout.write(`${r.hit ? 'already cached' : 'pulled'} ${r.name} ${r.digest} ${formatSize(r.size)}\n`);
      return;
    }
    case 'push': {
      only(ctx, sub);
      const rest = ctx.operands.slice(1);
      if (rest.length !== 2) throw new UsageError(`image push takes a cached image and a destination (REF [REGISTRY/]REPO[:TAG])${rest.length ? `, got ${rest.length} operands` : ''} (see: berth image --help)`);
      const tlsVerify = ctx.options['tls-verify'];
      const r = await observed(ctx, sub, rest[1]!, false, (cache) => cache.push(rest[0]!, rest[1]!, { creds: stringOption(ctx, 'creds'), tlsVerify: tlsVerify === undefined ? undefined : tlsVerify === true }));
      process.stdout.write(`pushed ${r.dest} ${r.digest} (${r.uploaded} of ${r.blobs} blobs sent)\n`);
      return;
    }
    case 'ls': {
      only(ctx, sub);
      if (ctx.operands.length > 1) throw new UsageError('image ls takes no operands');
      const fmt = formatOption(ctx);
      const runtime = await openRepairing(ctx, 'image-ls');
      const records = await (await runtime.images()).list();
      await warnVolumes(runtime, records);
      if (fmt === 'json') {
        printJson(records.map(forJson));
        return;
      }
      if (flag(ctx, 'quiet')) {
        for (const r of records) process.stdout.write(`${(r.refs.length ? r.refs : [r.digest]).join('\n')}\n`);
        return;
      }
      printTable(
        ['REF', 'DIGEST', 'SIZE', 'CREATED', 'LAST USED', 'CONTAINERS', 'SOURCE', 'PULLED'],
        records.map((r) => [refsOf(r), r.digest.slice(7, 19), formatSize(r.size), ago(r.created), ago(r.lastUsed), String(r.containers.length), r.source ? sourceOf(r.source) : 'import', ago(r.source?.pulled)]),
      );
      return;
    }
    case 'inspect': {
      only(ctx, sub);
      printJson(forJson(await (await openCache(ctx)).resolve(operand(ctx, sub, 'image ref or digest'))));
      return;
    }
    case 'rm': {
      only(ctx, sub);
      const ref = operand(ctx, sub, 'image ref or digest');
      const r = await whileSlow(ctx, `removing ${ref}`, () => observed(ctx, sub, ref, true, (cache) => cache.remove(ref, { force: flag(ctx, 'force') })));
      process.stdout.write(r.parked ? `parked ${r.digest}: it is removed with its last container\n` : `removed ${r.digest}\n`);
      return;
    }
    case 'prune': {
      only(ctx, sub);
      if (ctx.operands.length > 1) throw new UsageError('image prune takes no operands');
      const olderThan = stringOption(ctx, 'older-than');
      const maxSize = stringOption(ctx, 'max-size');
      const limits = {
        olderThan: olderThan === undefined ? undefined : parseDuration(olderThan, 'older-than'),
        maxSize: maxSize === undefined ? undefined : parseSize(maxSize, 'max-size'),
      };
      const removed = await whileSlow(ctx, 'pruning the image cache', () => observed(ctx, sub, '', true, (cache) => cache.prune(limits)));
      for (const r of removed) process.stdout.write(`removed ${r.digest} ${refsOf(r)} ${formatSize(r.size)}\n`);
      process.stdout.write(`${removed.length} image${removed.length === 1 ? '' : 's'} removed, ${formatSize(removed.reduce((n, r) => n + r.size, 0))} freed\n`);
      return;
    }
    default:
      throw unknownSubcommand('image', sub);
  }
}
