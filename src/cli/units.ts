// Sizes and durations as the command line writes them; a bad one is a usage error naming its option.
import { UsageError } from '../core/errors.js';
import { sizeInBytes } from '../core/sizes.js';

export { formatSize } from '../core/sizes.js';
const DURATIONS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "500M", "10G", "1234" (bytes; binary units, an optional trailing B or iB). */
export function parseSize(text: string, option: string): number {
  const bytes = sizeInBytes(text);
  if (bytes === undefined) throw new UsageError(`--${option} takes a size such as 500M or 10G, got "${text}"`);
  return bytes;
}

/** "30s", "15m", "12h", "7d", "2w", or a combination such as "1h30m". */
export function parseDuration(text: string, option: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) throw new UsageError(`--${option} takes a duration such as 30m, 12h or 7d, got "${text}"`);
  return parts.reduce((n, p) => n + Number(p[1]) * DURATIONS[p[2]!]!, 0);
}
