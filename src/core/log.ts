// Logging: pino, configured not wrapped. runc-compatible destinations: --log FILE (default
// stderr) and --log-format text|json. JSON lines carry level (a label), msg and time (RFC 3339),
// which is what containerd's shim reads back. pino is loaded only when something is logged,
// so verbs that succeed quietly do not pay for it.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { causeChain } from './errors.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogSettings {
  file: string | undefined;
  format: LogFormat;
  debug: boolean;
}

let settings: LogSettings = { file: undefined, format: 'text', debug: false };
let logger: Logger | undefined;

export function configureLog(next: LogSettings): void {
  settings = next;
  logger = undefined;
}

export function isDebug(): boolean {
  return settings.debug;
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
        level: settings.debug ? 'debug' : 'info',
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: ['token', 'password', 'secret', '*.token', '*.password', '*.secret'], censor: '[redacted]' },
      },
      destination(),
    );
  }
  return logger;
}

/** Serializes an error with its cause chain and code for a log line. */
export function errorFields(err: unknown): Record<string, unknown> {
  const code = err && typeof err === 'object' && 'code' in err ? (err as { code: unknown }).code : undefined;
  return { err: { code, causes: causeChain(err).slice(1) } };
}

export async function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): Promise<void> {
  if (level === 'debug' && !settings.debug) return;
  (await getLogger())[level](fields, msg);
}
