import { UsageError } from '../core/errors.js';
import { containerId, openRuntime, stringOption, type VerbContext } from './context.js';

export default async function stop(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  const raw = stringOption(ctx, 'timeout') ?? '10';
  const timeout = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(timeout)) throw new UsageError(`--timeout takes seconds, got "${raw}"`);
  await (await openRuntime(ctx)).stop(id, timeout);
}
