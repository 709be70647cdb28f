import { UsageError } from '../core/errors.js';
import { containerId, openRuntime, stringOption, type VerbContext } from './context.js';
import { progressLine } from './progress.js';

export default async function stop(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  const raw = stringOption(ctx, 'timeout') ?? '10';
  const timeout = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(timeout)) throw new UsageError(`--timeout takes seconds, got "${raw}"`);
  // Not silent for the whole timeout on a terminal: what was sent, and how long it has waited.
  const line = progressLine(ctx);
  const onWait = line && ((w: { signal: string; waitedS: number; timeoutS: number }) => {
    if (w.waitedS >= 0.5) line.update(`stopping ${id}: sent ${w.signal}, waiting ${Math.floor(w.waitedS)} s of ${w.timeoutS} s${w.signal === 'KILL' ? '' : ', then KILL'}`);
  });
  try {
    await (await openRuntime(ctx)).stop(id, timeout, onWait);
  } finally {
    line?.clear();
  }
}
