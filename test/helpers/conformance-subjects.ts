// What the conformance suite runs against: each berth backend through the berth CLI, and raw crun
// and raw runc through their own CLIs (the yardstick), all with the runc command line.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runProgram, type BerthResult, type BerthRunOptions } from './berth.js';
import { ALL_BACKENDS, missing } from './host.js';
import { BERTH_BIN } from './paths.js';
import { berthStateDir } from '../../src/core/state-root.js';

export interface Subject {
  /** The column of docs/conformance.md. */
  column: string;
  /** Short, for container ids (host-global cgroup names must not collide between columns). */
  slug: string;
  berth: boolean;
  skip: string | undefined;
  /** Runs the CLI with its global options for ROOT. */
  cli(root: string, args: string[], options?: BerthRunOptions): Promise<BerthResult>;
  /** The ids the tool underneath holds for ROOT (for berth: the backend's, plus berth's records). */
  ids(root: string): string[];
}

function toolIds(tool: string, stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return execFileSync(tool, ['--root', stateDir, 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

const SLUGS: Record<string, string> = { 'crun-cli': 'ccli', 'crun-abi': 'cabi', runc: 'runc', lxc: 'lxc' };

function berthSubjects(): Subject[] {
  return ALL_BACKENDS.map((b) => ({
    column: b.name,
    slug: SLUGS[b.name] ?? b.name,
    berth: true,
    skip: b.skip,
    cli: (root, args, options) => runProgram(BERTH_BIN, ['--root', root, '--runtime', b.name, ...args], options),
    ids: (root) => {
      const records = existsSync(join(berthStateDir(root), 'containers')) ? readdirSync(join(berthStateDir(root), 'containers')) : [];
      const own = b.tool === 'lxc' ? b.ids(root) : toolIds(b.tool, join(berthStateDir(root), b.tool));
      return [...new Set([...records, ...own])].sort();
    },
  }));
}

function rawSubject(tool: 'crun' | 'runc'): Subject {
  return {
    column: `raw ${tool}`,
    slug: `r${tool}`,
    berth: false,
    skip: missing(tool, 'busybox'),
    cli: (root, args, options) => runProgram(tool, ['--root', root, ...args], options),
    ids: (root) => toolIds(tool, root),
  };
}

/** The yardsticks a backend is judged against (lxc is its own engine: both). */
export const ENGINES: Record<string, string[]> = { 'crun-cli': ['raw crun'], 'crun-abi': ['raw crun'], runc: ['raw runc'], lxc: ['raw crun', 'raw runc'] };

/**
 * Every subject; $BERTH_TEST_BACKENDS=a,b narrows it (raw-crun, raw-runc name the yardsticks).
 * The yardsticks of the backends chosen always run: a berth result means nothing without them.
 */
export function conformanceSubjects(): Subject[] {
  const only = process.env.BERTH_TEST_BACKENDS?.split(',').filter(Boolean);
  const berth = berthSubjects();
  const needed = new Set(berth.flatMap((b) => ENGINES[b.column] ?? []));
  const raw = [rawSubject('crun'), rawSubject('runc')].filter((s) => !only?.length || only.includes(s.column.replace(' ', '-')) || needed.has(s.column));
  return [...berth, ...raw];
}
