import { containerId, openRuntime, printJson, type VerbContext } from './context.js';

export default async function state(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  printJson(await (await openRuntime(ctx)).state(id));
}
