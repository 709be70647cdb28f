import { containerId, openRuntime, type VerbContext } from './context.js';

export default async function pause(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  await (await openRuntime(ctx)).pause(id);
}
