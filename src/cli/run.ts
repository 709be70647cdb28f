import { runDetached, runForeground } from '../runtime/container-create.js';
import { flag, openRuntime, type VerbContext } from './context.js';
import { createOptions } from './create.js';

export default async function run(ctx: VerbContext): Promise<number> {
  const opts = await createOptions(ctx);
  const runtime = await openRuntime(ctx);
  if (flag(ctx, 'detach')) {
    await runDetached(runtime, opts);
    return 0;
  }
  return runForeground(runtime, opts);
}
