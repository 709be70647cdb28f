// Signals by name (TERM, SIGTERM, term) or number (15), as runc accepts them.
import { constants } from 'node:os';
import { InvalidSignalError } from './errors.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

export interface ParsedSignal {
  number: number;
  /** Canonical name without the SIG prefix, e.g. "TERM" or "RTMIN+3". */
  name: string;
}

const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!byNumber.has(num)) byNumber.set(num, name.slice(3));
}

/** The signal names kill accepts (without SIG), in number order: for completion. */
export function signalNames(): string[] {
  return [...byNumber.entries()].sort(([a], [b]) => a - b).map(([, name]) => name);
}

export function parseSignal(input: string | undefined, fallback = 'TERM'): ParsedSignal {
  const raw = (input ?? fallback).trim();
  if (/^\d+$/.test(raw)) {
    const num = Number(raw);
    const name = byNumber.get(num) ?? (num >= SIGRTMIN && num <= SIGRTMAX ? `RTMIN+${num - SIGRTMIN}` : undefined);
    if (name === undefined || num === 0) throw new InvalidSignalError(`unknown signal ${raw}: use a name such as TERM or a number from 1 to ${SIGRTMAX}`);
    return { number: num, name };
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  const num = (constants.signals as Record<string, number | undefined>)[`SIG${name}`];
  if (num !== undefined) return { number: num, name: byNumber.get(num) ?? name };
  const rt = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
  if (rt) {
    const offset = Number(rt[1]);
    const n = name.startsWith('RTMIN') ? SIGRTMIN + offset : SIGRTMAX - offset;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return { number: n, name };
  }
  throw new InvalidSignalError(`unknown signal "${raw}": use a name such as TERM or KILL, or a number from 1 to ${SIGRTMAX}`);
}
