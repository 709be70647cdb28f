// berth snapshot create|ls|rollback|rm ID [NAME]: filesystem snapshots of a container made from an image.
import { UsageError } from '../core/errors.js';
import { createSnapshot, listSnapshots, removeSnapshot, rollbackSnapshot } from '../runtime/container-snapshots.js';
import { flag, formatOption, openRuntime, printJson, printTable, type VerbContext } from './context.js';
import { subcommandOf, unknownSubcommand } from './verbs.js';

const USAGE = 'berth snapshot create ID [NAME] | ls ID | rollback ID NAME | rm ID NAME';

function operands(ctx: VerbContext, action: string, min: number, max: number): string[] {
  const rest = ctx.operands.slice(1);
  if (rest.length < min || rest.length > max) {
    const what = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(`snapshot ${action} takes ${what} operands after the action, got ${rest.length} (${USAGE})`);
  }
  return rest;
}

export default async function snapshot(ctx: VerbContext): Promise<void> {
  const action = subcommandOf('snapshot', ctx.operands[0]);
  if (action === undefined) throw unknownSubcommand('snapshot', ctx.operands[0]);
  if (flag(ctx, 'discard-newer') && action !== 'rollback') throw new UsageError('--discard-newer is only for snapshot rollback');
  switch (action) {
    case 'create': {
      const [id, name] = operands(ctx, action, 1, 2);
      process.stdout.write((await createSnapshot(await openRuntime(ctx), id!, name)) + '\n');
      return;
    }
    case 'ls': {
      const [id] = operands(ctx, action, 1, 1);
      const format = formatOption(ctx);
      const snapshots = await listSnapshots(await openRuntime(ctx), id!);
      if (format === 'json') return printJson(snapshots.map((s) => ({ name: s.name, created: new Date(s.created * 1000).toISOString() })));
      printTable(['NAME', 'CREATED'], snapshots.map((s) => [s.name, new Date(s.created * 1000).toISOString()]));
      return;
    }
    case 'rollback': {
      const [id, name] = operands(ctx, action, 2, 2);
      await rollbackSnapshot(await openRuntime(ctx), id!, name!, flag(ctx, 'discard-newer'));
      return;
    }
    case 'rm': {
      const [id, name] = operands(ctx, action, 2, 2);
      await removeSnapshot(await openRuntime(ctx), id!, name!);
      return;
    }
    default:
      throw unknownSubcommand('snapshot', action);
  }
}
