import { containerId, flag, openRuntime, type VerbContext } from './context.js';

export default async function del(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  await (await openRuntime(ctx)).delete(id, flag(ctx, 'force'));
}
