import { containerId, flag, openRuntime, type VerbContext } from './context.js';
import { whileSlow } from './progress.js';

export default async function del(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  const runtime = await openRuntime(ctx);
  await whileSlow(ctx, `deleting ${id}`, () => runtime.delete(id, flag(ctx, 'force')));
}
