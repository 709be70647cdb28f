// Logging: pino, configured not wrapped. runc-compatible destinations: --log FILE (default
// stderr) and --log-format text|json. JSON lines carry level (a label), msg and time (RFC 3339),
// which is what containerd's shim reads back, plus the operation's context (op, id, backend,
// vmid), the active trace (trace_id, span_id) and an error's whole cause chain (err). Secrets are
// redacted from every field and message. pino is loaded only when something is logged, so verbs
// that succeed quietly do not pay for it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { InvalidArgumentError } from './errors.js';
import { activeTraceIds } from './tracing.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where the level came from; a later source only applies when no stronger one set it. */
export type LevelSource = 'flag' | 'env' | 'config' | 'default';

export interface LogSettings {
  file: string | undefined;
  format: LogFormat;
  level: LogLevel;
  levelSource: LevelSource;
}

let settings: LogSettings = { file: undefined, format: 'text', level: 'info', levelSource: 'default' };
let logger: Logger | undefined;

export function configureLog(next: LogSettings): void {
  settings = next;
  logger = undefined;
}

export function logSettings(): Readonly<LogSettings> {
  return settings;
}

export function isDebug(): boolean {
  return settings.level === 'debug';
}

export function parseLogLevel(value: string, where: string): LogLevel {
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new InvalidArgumentError(`${where} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
}

/**
 * The level from --debug, then $BERTH_LOG_LEVEL; the config file's `[log] level` comes later
 * (applyConfigLogLevel) because the config is read only by verbs that need it. A bad
 * BERTH_LOG_LEVEL is an error (exit 3), as a bad config value is.
 */
export function levelFrom(debugFlag: boolean, env: NodeJS.ProcessEnv = process.env): Pick<LogSettings, 'level' | 'levelSource'> {
  if (debugFlag) return { level: 'debug', levelSource: 'flag' };
  const fromEnv = env.BERTH_LOG_LEVEL;
  if (fromEnv !== undefined && fromEnv !== '') return { level: parseLogLevel(fromEnv, 'BERTH_LOG_LEVEL'), levelSource: 'env' };
  return { level: 'info', levelSource: 'default' };
}

/** The config file's `[log] level`, unless --debug or $BERTH_LOG_LEVEL already decided. */
export function applyConfigLogLevel(level: LogLevel | undefined): void {
  if (level === undefined || settings.levelSource === 'flag' || settings.levelSource === 'env') return;
  settings = { ...settings, level, levelSource: 'config' };
  if (logger) logger.level = level;
}

/** The context of the operation the code runs for: op, id, backend, vmid (read at each line). */
export type LogContext = () => Record<string, unknown>;
const context = new AsyncLocalStorage<LogContext>();

/** Runs fn with `ctx`'s fields added to every log line written inside it. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return context.run(ctx, fn);
}

const errorContexts = new WeakMap<object, Record<string, unknown>>();

/**
 * Remembers the operation context an error was thrown in, so that the line reporting it after
 * the operation has ended (the CLI's last words) still names op, id and backend.
 */
export function noteErrorContext(err: unknown, fields: Record<string, unknown>): void {
  if (err !== null && typeof err === 'object' && !errorContexts.has(err)) errorContexts.set(err, fields);
}

export function errorContext(err: unknown): Record<string, unknown> {
  return (err !== null && typeof err === 'object' && errorContexts.get(err)) || {};
}

/** A minimal synchronous destination; a text log is logfmt like runc's (time= level= msg=). */
function destination(): { write(line: string): void } {
  const fd = settings.file ? openSync(settings.file, 'a', 0o644) : 2;
  process.once('exit', () => fd !== 2 && closeSync(fd));
  if (settings.format === 'json') return { write: (line) => void writeSync(fd, line) };
  return {
    write(line) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      const { time, level, msg, ...rest } = rec;
      let out = `time=${JSON.stringify(time)} level=${String(level)} msg=${JSON.stringify(msg)}`;
      for (const [k, v] of Object.entries(rest)) out += ` ${k}=${JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v))}`;
      writeSync(fd, out + '\n');
    },
  };
}

async function getLogger(): Promise<Logger> {
  if (!logger) {
    const { pino } = await import('pino');
    logger = pino(
      {
        level: settings.level,
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // `err` is already the plain cause chain of errorFields(); pino's error serializer would re-shape it.
        serializers: { err: (v: unknown) => v },
        mixin() {
          const ids = activeTraceIds();
          return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
        },
      },
      destination(),
    );
  }
  return logger;
}

/** One link of an error's cause chain, as logged. */
export interface ErrorLink {
  type: string;
  message: string;
  code?: string;
  /** A failed external tool: its argv, exit code and stderr. */
  argv?: string[];
  exit_code?: number | null;
  stderr?: string;
}

function link(err: unknown): ErrorLink {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const e = err as Error & { code?: unknown; argv?: unknown; exitCode?: unknown; stderr?: unknown };
  const out: ErrorLink = { type: e.name, message: e.message };
  if (typeof e.code === 'string') out.code = e.code;
  if (Array.isArray(e.argv)) out.argv = e.argv.map(String);
  if (typeof e.exitCode === 'number' || e.exitCode === null) out.exit_code = e.exitCode as number | null;
  if (typeof e.stderr === 'string' && e.stderr !== '') out.stderr = e.stderr.length > 2000 ? `…${e.stderr.slice(-2000)}` : e.stderr;
  return out;
}

/**
 * An error with its whole cause chain for a log line: `err` is the outermost error (type,
 * message, code; argv, exit_code and stderr for a failed tool) and `err.causes` its causes,
 * outermost first, each of the same shape.
 */
export function errorFields(err: unknown): { err: ErrorLink & { causes: ErrorLink[] } } {
  const chain: ErrorLink[] = [];
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && !seen.has(cur) && chain.length < 20) {
    seen.add(cur);
    chain.push(link(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  const [head = { type: 'undefined', message: String(err) }, ...causes] = chain;
  return { err: { ...head, causes } };
}

/** Lines on their way (a `void log(...)` still loading pino): logsWritten() waits for them. */
const inFlight = new Set<Promise<void>>();

export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): Promise<void> {
  if (RANK[level] < RANK[settings.level]) return Promise.resolve();
  const ctx = context.getStore();
  const merged = ctx ? { ...ctx(), ...fields } : fields;
  const line = (async () => {
    // Loaded with pino, when something is logged: a quiet verb pays for neither.
    const { redactText, redactValue } = await import('./redact.js');
    (await getLogger())[level](redactValue(merged) as Record<string, unknown>, redactText(msg));
  })();
  inFlight.add(line);
  void line.finally(() => inFlight.delete(line)).catch(() => undefined);
  return line;
}

/** Resolves when every line logged so far is written: the verb's error line then comes last. */
export async function logsWritten(): Promise<void> {
  await Promise.allSettled([...inFlight]);
}
