import { parseSignal } from '../core/signals.js';
import { containerId, flag, openRuntime, type VerbContext } from './context.js';

export default async function kill(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx, 1);
  const signal = parseSignal(ctx.operands[1], 'TERM');
  await (await openRuntime(ctx)).kill(id, signal, flag(ctx, 'all'));
}
