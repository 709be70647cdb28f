// Progress for a person watching: one line on stderr, redrawn in place, only when stderr is a
// terminal and the log is text (never in JSON-log mode or when piped: a client parsing stderr
// must see berth's words only). Cleared before the verb prints its result.
import { formatSize } from './units.js';
import type { VerbContext } from './context.js';

export interface ProgressLine {
  /** Shows `text` (at most every 100 ms unless `force`). */
  update(text: string, force?: boolean): void;
  /** Removes the line. */
  clear(): void;
}

export function progressLine(ctx: Pick<VerbContext, 'globals'>, stream: NodeJS.WriteStream = process.stderr): ProgressLine | undefined {
  if (!stream.isTTY || ctx.globals.logFormat === 'json') return undefined;
  let last = 0;
  let shown = false;
  return {
    update(text, force = false) {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** Bytes of a known total: a bar, the amounts, the percentage and the rate. */
export function bytesProgress(ctx: Pick<VerbContext, 'globals'>): { onProgress: (p: { done: number; total: number; what: string }) => void; clear: () => void } | undefined {
  const line = progressLine(ctx);
  if (!line) return undefined;
  const started = Date.now();
  return {
    onProgress: (p) => {
      const share = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      const bar = '#'.repeat(Math.round(share * 20)).padEnd(20, '.');
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0.2 ? `, ${formatSize(p.done / seconds)}/s` : '';
      line.update(`${p.what} [${bar}] ${formatSize(p.done)} of ${formatSize(p.total)} (${Math.floor(share * 100)}%${rate})`, p.done >= p.total);
    },
    clear: () => line.clear(),
  };
}

/**
 * Runs `work`; when it takes longer than `afterMs` on a terminal, says so with the seconds it
 * has taken (a large delete: a dir driver's volume of gigabytes is removed file by file).
 */
export async function whileSlow<T>(ctx: Pick<VerbContext, 'globals'>, what: string, work: () => Promise<T>, options: { afterMs?: number; stream?: NodeJS.WriteStream } = {}): Promise<T> {
  const line = progressLine(ctx, options.stream);
  if (!line) return work();
  const started = Date.now();
  const tick = (): void => line.update(`${what}… ${Math.floor((Date.now() - started) / 1000)} s`, true);
  let timer: NodeJS.Timeout | undefined = setTimeout(function again() {
    tick();
    timer = setTimeout(again, 1000);
  }, options.afterMs ?? 1000);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    line.clear();
  }
}
