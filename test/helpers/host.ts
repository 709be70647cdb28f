// What this host can run; tests skip with the reason when something is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(`${d}/${bin}`));
}

/** Undefined when `bin` is installed; else the reason to skip. */
export function missing(...bins: string[]): string | undefined {
  const gone = bins.filter((b) => !onPath(b));
  return gone.length ? `not installed: ${gone.join(', ')} (run scripts/install-deps.sh)` : undefined;
}

/** The libcrun that scripts/build-libcrun.sh builds (Debian ships none). */
export const LIBCRUN_SO = join(REPO_ROOT, '.cache/libcrun/1.8.1/libcrun.so');

export interface BackendCase {
  /** The name berth knows it by (--runtime). */
  name: string;
  /** The runtime binary that sees its containers (`<tool> --root <root>/<tool> list`). */
  tool: 'crun' | 'runc';
  /** Why the suite cannot run against it on this host, if it cannot. */
  skip: string | undefined;
}

/** The backends every parametrized suite runs against. */
export const ALL_BACKENDS: readonly BackendCase[] = [
  { name: 'crun-cli', tool: 'crun', skip: missing('crun', 'busybox') },
  { name: 'crun-abi', tool: 'crun', skip: missing('crun', 'busybox') ?? libcrunMissing() },
  { name: 'runc', tool: 'runc', skip: missing('runc', 'busybox') },
];


/** Undefined when the built libcrun.so is there; else the reason to skip. */
export function libcrunMissing(): string | undefined {
  return existsSync(LIBCRUN_SO) ? undefined : `${LIBCRUN_SO} is not built (run scripts/build-libcrun.sh)`;
}

/** True while a process with this pid exists (signal 0 probes without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
