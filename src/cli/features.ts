import { noOperands, openRuntime, printJson, type VerbContext } from './context.js';

export default async function features(ctx: VerbContext): Promise<void> {
  noOperands(ctx);
  printJson(await (await openRuntime(ctx)).features());
}
