// What this host can run; tests skip with the reason when something is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';
import { berthStateDir } from '../../src/core/state-root.js';

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
  /** The tool that sees its containers: crun or runc (`<tool> --root <root>/<tool> list`), or LXC. */
  tool: 'crun' | 'runc' | 'lxc';
  /** Why the suite cannot run against it on this host, if it cannot. */
  skip: string | undefined;
  /** The ids of the containers the backend itself holds under berth's ROOT, as its own tool lists them. */
  ids(root: string): string[];
}

function ociIds(tool: 'crun' | 'runc'): (root: string) => string[] {
  return (root) => execFileSync(tool, ['--root', join(berthStateDir(root), tool), 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** LXC's containers under ROOT/lxc (its lxcpath), as lxc-ls sees them. */
export function lxcIds(root: string): string[] {
  const lxcpath = join(berthStateDir(root), 'lxc');
  if (!existsSync(lxcpath)) return [];
  return execFileSync('lxc-ls', ['-P', lxcpath, '-1'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** berth's LXC helpers (scripts/build-lxc-helpers.sh), or why they are missing. */
export function lxcHelpersMissing(): string | undefined {
  const dir = process.env.BERTH_LXC_HELPERS || join(REPO_ROOT, '.cache/lxc');
  const gone = ['berth-lxc-init', 'berth-lxc-start', 'berth-lxc-detach', 'berth-lxc-console'].filter((h) => !existsSync(join(dir, h)));
  return gone.length ? `${gone.join(', ')} not built in ${dir} (run scripts/build-lxc-helpers.sh)` : undefined;
}

/** The backends every parametrized suite runs against ($BERTH_TEST_BACKENDS=a,b: only those, to run a few by hand). */
export const ALL_BACKENDS: readonly BackendCase[] = onlyNamed([
  { name: 'crun-cli', tool: 'crun', skip: missing('crun', 'busybox'), ids: ociIds('crun') },
  { name: 'crun-abi', tool: 'crun', skip: missing('crun', 'busybox') ?? libcrunMissing(), ids: ociIds('crun') },
  { name: 'runc', tool: 'runc', skip: missing('runc', 'busybox'), ids: ociIds('runc') },
  { name: 'lxc', tool: 'lxc', skip: missing('lxc-start', 'busybox') ?? lxcHelpersMissing(), ids: lxcIds },
]);

function onlyNamed(cases: BackendCase[]): BackendCase[] {
  const only = process.env.BERTH_TEST_BACKENDS?.split(',').filter(Boolean);
  return only?.length ? cases.filter((c) => only.includes(c.name)) : cases;
}


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

/**
 * A PATH of one directory (made under `dir`) with links to every program on PATH but `name`:
 * to run berth on a host without that program (crun missing, so crun (auto) falls back).
 */
export function pathWithout(dir: string, name: string): string {
  const out = join(dir, `path-without-${name}`);
  mkdirSync(out, { recursive: true });
  const linked = new Set<string>(); // the first on PATH wins, as for a lookup
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (n === name || linked.has(n) || existsSync(join(out, n))) continue;
      linked.add(n);
      symlinkSync(join(d, n), join(out, n));
    }
  }
  return out;
}
