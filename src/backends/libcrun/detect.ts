// Where is a libcrun berth can drive, and if there is none, why not. An ordered list of
// strategies; each either finds a usable library or says why it does not apply. Nothing here
// loads the library: its load-time constructor would re-execute the calling process (see
// docs/backends.md), so the file itself is read (ELF symbols, version), and the real load
// happens in the sealed worker process.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readElf } from './elf.js';
import { layoutFor, SUPPORTED_VERSIONS, type LibcrunLayout } from './layouts.js';

export type LibcrunProblem = 'not-found' | 'version-unsupported' | 'symbol-missing' | 'load-failed';

export interface LibcrunFound {
  path: string;
  /** crun's upstream version, e.g. "1.8.1". */
  version: string;
  /** Where the version was read from. */
  versionSource: string;
  layout: LibcrunLayout;
  /** The strategy that found it, e.g. "BERTH_LIBCRUN". */
  strategy: string;
}

export interface LibcrunAttempt {
  strategy: string;
  path: string | undefined;
  problem: LibcrunProblem;
  reason: string;
}

export interface LibcrunDetection {
  found: LibcrunFound | undefined;
  /** Every strategy that did not give a usable library, in order. */
  attempts: LibcrunAttempt[];
}

export interface LibcrunDetectInput {
  env: NodeJS.ProcessEnv;
  /** `libcrun_path` from the config. */
  configPath: string | undefined;
  /** Default: $BERTH_LIBCRUN_CACHE, else <repo>/.cache/libcrun (where scripts/build-libcrun.sh puts it). */
  cacheDir?: string;
  /** Default: the usual Debian and /usr/local locations. */
  systemPaths?: readonly string[];
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export const SYSTEM_LIBCRUN_PATHS: readonly string[] = [
  '/usr/local/lib/libcrun.so',
  '/usr/local/lib/libcrun.so.1',
  '/usr/local/lib/libcrun.so.0',
  '/usr/lib/x86_64-linux-gnu/libcrun.so',
  '/usr/lib/x86_64-linux-gnu/libcrun.so.1',
  '/usr/lib/x86_64-linux-gnu/libcrun.so.0',
  '/usr/lib64/libcrun.so.1',
  '/usr/lib/libcrun.so.1',
];

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return env.BERTH_LIBCRUN_CACHE || join(REPO_ROOT, '.cache/libcrun');
}

class Unusable extends Error {
  constructor(
    readonly problem: LibcrunProblem,
    message: string,
  ) {
    super(message);
  }
}

const NOT_CRUN_VERSIONS = new Set(['0.2.0', '1.0.0', '1.0.1', '1.0.2', '1.1.0', '1.2.0']);

/** The version of a libcrun file, without loading it. */
function readVersion(path: string, rodata: () => string[]): { version: string; source: string } {
  // scripts/build-libcrun.sh writes the Debian version (1.8.1-1+deb12u1) next to the .so.
  const noted = join(dirname(path), 'VERSION');
  if (existsSync(noted)) {
    const text = readFileSync(noted, 'utf8').trim();
    const upstream = text.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
    if (/^\d+\.\d+(\.\d+)?$/.test(upstream)) return { version: upstream, source: `${noted} (${text})` };
    throw new Unusable('version-unsupported', `${noted} does not hold a crun version: "${text}"`);
  }
  // crun built with libgcrypt keeps PACKAGE_VERSION as a string of its own (seccomp.c). Other
  // bare versions in libcrun are OCI spec versions it writes (state's ociVersion "1.0.0", the
  // seccomp notify plugin API "0.2.0"): those are not crun's, and no crun berth can drive has them.
  const candidates = [...new Set(rodata().filter((s) => /^\d+\.\d+\.\d+$/.test(s) && !NOT_CRUN_VERSIONS.has(s)))];
  if (candidates.length === 1) return { version: candidates[0]!, source: 'version string in the library' };
  throw new Unusable(
    'version-unsupported',
    candidates.length === 0
      ? 'its crun version cannot be read (no VERSION file next to it, no version string in it)'
      : `its crun version is ambiguous (strings ${candidates.join(', ')} in it, no VERSION file next to it)`,
  );
}

/** Checks one file: found, or throws Unusable with the problem. */
export function inspectLibcrun(path: string, strategy: string): LibcrunFound {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new Unusable('not-found', `${path} does not exist`);
  }
  if (!isFile) throw new Unusable('load-failed', `${path} is not a regular file`);
  let elf;
  try {
    elf = readElf(path);
  } catch (err) {
    throw new Unusable('load-failed', `${path} cannot be loaded: ${(err as Error).message}`);
  }
  if (!elf.exports.has('libcrun_container_create')) {
    throw new Unusable('symbol-missing', `${path} is not libcrun: it does not export libcrun_container_create`);
  }
  const { version, source } = readVersion(path, () => elf.rodataStrings());
  const layout = layoutFor(version);
  if (!layout) {
    throw new Unusable('version-unsupported', `${path} is crun ${version}, and berth has struct layouts only for crun ${SUPPORTED_VERSIONS}`);
  }
  const missing = layout.functions.filter((f) => !elf.exports.has(f));
  if (missing.length > 0) throw new Unusable('symbol-missing', `${path} (crun ${version}) does not export ${missing.join(', ')}`);
  return { path, version, versionSource: source, layout, strategy };
}

function cacheCandidates(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  // Newest version first.
  return entries
    .filter((e) => /^\d/.test(e))
    .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
    .map((e) => join(dir, e, 'libcrun.so'))
    .filter((p) => existsSync(p));
}

/**
 * The strategies, in order: $BERTH_LIBCRUN, the config's `libcrun_path`, the build cache, the
 * system paths. A library the user named (variable or config) that is unusable ends the search:
 * berth does not quietly use another one than the user asked for.
 */
export function detectLibcrun(input: LibcrunDetectInput): LibcrunDetection {
  const attempts: LibcrunAttempt[] = [];
  const tryPath = (strategy: string, path: string): LibcrunFound | undefined => {
    try {
      return inspectLibcrun(path, strategy);
    } catch (err) {
      if (!(err instanceof Unusable)) throw err;
      attempts.push({ strategy, path, problem: err.problem, reason: err.message });
      return undefined;
    }
  };

  const named: Array<[string, string | undefined]> = [
    ['BERTH_LIBCRUN', input.env.BERTH_LIBCRUN || undefined],
    ['config libcrun_path', input.configPath],
  ];
  for (const [strategy, path] of named) {
    if (path === undefined) continue;
    const found = tryPath(strategy, resolve(path));
    return { found, attempts };
  }

  const cacheDir = input.cacheDir ?? defaultCacheDir(input.env);
  const cached = cacheCandidates(cacheDir);
  if (cached.length === 0) {
    attempts.push({ strategy: 'build cache', path: cacheDir, problem: 'not-found', reason: `no libcrun.so under ${cacheDir} (build one with scripts/build-libcrun.sh)` });
  }
  for (const path of cached) {
    const found = tryPath('build cache', path);
    if (found) return { found, attempts };
  }

  const systemPaths = input.systemPaths ?? SYSTEM_LIBCRUN_PATHS;
  const present = systemPaths.filter((p) => existsSync(p));
  if (present.length === 0) {
    attempts.push({ strategy: 'system paths', path: undefined, problem: 'not-found', reason: `no libcrun in ${systemPaths.join(', ')} (Debian ships none)` });
  }
  for (const path of present) {
    const found = tryPath('system paths', path);
    if (found) return { found, attempts };
  }
  return { found: undefined, attempts };
}

/** One line: why no libcrun is usable (the most telling attempt: a real file over "not found"). */
export function whyNoLibcrun(d: LibcrunDetection): { problem: LibcrunProblem; reason: string } {
  const telling = d.attempts.find((a) => a.problem !== 'not-found') ?? d.attempts[0];
  if (!telling) return { problem: 'not-found', reason: 'no libcrun found' };
  const reason = telling.problem === 'not-found' ? d.attempts.map((a) => a.reason).join('; ') : telling.reason;
  return { problem: telling.problem, reason: `${problemWords(telling.problem)}: ${reason}` };
}

export function problemWords(p: LibcrunProblem): string {
  return { 'not-found': 'library not found', 'version-unsupported': 'version unsupported', 'symbol-missing': 'symbol missing', 'load-failed': 'load failed' }[p];
}
