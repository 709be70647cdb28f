import { containerId, openRuntime, type VerbContext } from './context.js';

export default async function resume(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  await (await openRuntime(ctx)).resume(id);
}
