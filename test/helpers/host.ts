// What this host can run; tests skip with the reason when something is missing.
import { existsSync } from 'node:fs';

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(`${d}/${bin}`));
}

/** Undefined when `bin` is installed; else the reason to skip. */
export function missing(...bins: string[]): string | undefined {
  const gone = bins.filter((b) => !onPath(b));
  return gone.length ? `not installed: ${gone.join(', ')} (run scripts/install-deps.sh)` : undefined;
}

export const ALL_BACKENDS = ['crun', 'runc'] as const;
