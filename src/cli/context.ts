// What a verb handler receives, and the helpers every handler shares.
import { UsageError } from '../core/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ParsedOptions } from './args.js';

export interface GlobalOptions {
  root: string;
  log: string | undefined;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  runtime: string | undefined;
  config: string | undefined;
}

export interface VerbContext {
  verb: string;
  globals: GlobalOptions;
  options: ParsedOptions;
  operands: string[];
}

/** A handler returns the process's exit code (undefined means 0). */
export type VerbHandler = (ctx: VerbContext) => Promise<number | void>;

export async function openRuntime(ctx: VerbContext): Promise<Runtime> {
  const { Runtime } = await import('../runtime/runtime.js');
  return new Runtime({
    root: ctx.globals.root,
    debug: ctx.globals.debug,
    systemdCgroup: ctx.globals.systemdCgroup,
    runtimeOverride: ctx.globals.runtime,
    configPath: ctx.globals.config,
    processModel: 'one-shot',
    journal: true,
  });
}

/** The container id operand; exactly `extra` more operands may follow. */
export function containerId(ctx: VerbContext, extra = 0): string {
  const [id] = ctx.operands;
  if (id === undefined) throw new UsageError(`${ctx.verb} needs a container id (see: berth ${ctx.verb} --help)`);
  if (ctx.operands.length > 1 + extra) {
    throw new UsageError(`${ctx.verb} takes ${extra === 0 ? 'one operand' : `at most ${1 + extra} operands`}, got ${ctx.operands.length}`);
  }
  return id;
}

export function noOperands(ctx: VerbContext): void {
  if (ctx.operands.length > 0) throw new UsageError(`${ctx.verb} takes no operands, got "${ctx.operands[0]}"`);
}

export function stringOption(ctx: VerbContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(ctx: VerbContext, name: string): boolean {
  return ctx.options[name] === true;
}

export function countOption(ctx: VerbContext, name: string): number {
  const v = stringOption(ctx, name);
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} takes a whole number, got "${v}"`);
  return Number(v);
}

export function formatOption(ctx: VerbContext): 'table' | 'json' {
  const v = stringOption(ctx, 'format') ?? 'table';
  if (v !== 'table' && v !== 'json') throw new UsageError(`--format must be table or json, got "${v}"`);
  return v;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Left-aligned columns, as runc's tabwriter prints them. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  process.stdout.write([line(headers), ...rows.map(line)].join('\n') + '\n');
}
