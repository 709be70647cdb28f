import { createContainer, type CreateOptions } from '../runtime/container-create.js';
import { containerId, countOption, flag, openRuntime, stringOption, type VerbContext } from './context.js';

export function createOptions(ctx: VerbContext): CreateOptions {
  return {
    id: containerId(ctx),
    bundle: stringOption(ctx, 'bundle') ?? '.',
    pidFile: stringOption(ctx, 'pid-file'),
    consoleSocket: stringOption(ctx, 'console-socket'),
    noPivot: flag(ctx, 'no-pivot'),
    noNewKeyring: flag(ctx, 'no-new-keyring'),
    preserveFds: countOption(ctx, 'preserve-fds'),
  };
}

export default async function create(ctx: VerbContext): Promise<void> {
  const opts = createOptions(ctx);
  await createContainer(await openRuntime(ctx), opts);
}
