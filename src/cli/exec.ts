import { UsageError } from '../core/errors.js';
import { containerId, countOption, flag, openRuntime, stringOption, type VerbContext } from './context.js';

export default async function exec(ctx: VerbContext): Promise<number> {
  const [id, ...args] = ctx.operands;
  const processFile = stringOption(ctx, 'process');
  if (id === undefined) containerId(ctx);
  if (processFile === undefined && args.length === 0) throw new UsageError('exec needs a command after the container id, or --process FILE');
  if (processFile !== undefined && args.length > 0) throw new UsageError('exec takes either --process FILE or a command, not both');
  const runtime = await openRuntime(ctx);
  return runtime.exec({
    id: id!,
    processFile,
    args,
    detach: flag(ctx, 'detach'),
    pidFile: stringOption(ctx, 'pid-file'),
    tty: flag(ctx, 'tty'),
    consoleSocket: stringOption(ctx, 'console-socket'),
    env: (ctx.options.env as string[] | undefined) ?? [],
    cwd: stringOption(ctx, 'cwd'),
    preserveFds: countOption(ctx, 'preserve-fds'),
  });
}
