// A small argv parser for runc's command line: global options, then a verb, then the verb's
// options and operands. Hand-written over node:util parseArgs because exec must stop at the
// first operand (`exec ID sh -c ...`), and over commander because it costs ~25 ms of start-up
// on every call (measured), a fifth of Node's own.
import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help; for string options, the value's name. */
  description: string;
  valueName?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type ParsedOptions = Record<string, string | boolean | string[] | undefined>;

export interface ParseResult {
  options: ParsedOptions;
  operands: string[];
}

/**
 * Parses options and operands. With `stopAtOperand`, everything from the first operand on is an
 * operand. `--` ends the options.
 */
export function parseOptions(argv: readonly string[], specs: OptionSpecs, opts: { stopAtOperand?: boolean; context: string }): ParseResult {
  const options: ParsedOptions = {};
  const operands: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);

  const set = (name: string, value: string | boolean): void => {
    const spec = specs[name]!;
    if (spec.multiple) options[name] = [...((options[name] as string[] | undefined) ?? []), String(value)];
    else options[name] = value;
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      operands.push(...argv.slice(i + 1));
      i = argv.length;
      break;
    }
    if (tok.startsWith('--') || (tok.startsWith('-') && tok.length > 1 && !/^-\d/.test(tok))) {
      const long = tok.startsWith('--');
      const eq = tok.indexOf('=');
      const key = long ? tok.slice(2, eq === -1 ? undefined : eq) : tok.slice(1, 2);
      const name = long ? key : byShort.get(key);
      const spec = name !== undefined && Object.hasOwn(specs, name) ? specs[name] : undefined;
      if (!spec || name === undefined) {
        const hint = long ? didYouMean(key, Object.keys(specs), (s) => `--${s}`) : '';
        throw new UsageError(`unknown option ${long ? `--${key}` : `-${key}`} for ${opts.context}${hint} (see: berth ${opts.context === 'berth' ? '' : `${opts.context} `}--help)`);
      }
      let inline: string | undefined = long ? (eq === -1 ? undefined : tok.slice(eq + 1)) : tok.length > 2 ? tok.slice(2) : undefined;
      if (spec.type === 'boolean') {
        if (inline !== undefined && !long) {
          // -dit, -de A=1, -deA=1: a cluster of short options, as getopt reads it: booleans, and
          // at most one option that takes a value, last, its value the cluster's rest or the
          // next argument.
          for (let c = 1; c < tok.length; c++) {
            const ch = tok[c]!;
            const n = byShort.get(ch);
            if (!n || !Object.hasOwn(specs, n)) throw new UsageError(`unknown option -${ch} for ${opts.context}`);
            if (specs[n]!.type === 'boolean') {
              set(n, true);
              continue;
            }
            let value: string | undefined = tok.slice(c + 1) || undefined;
            if (value === undefined) {
              if (i + 1 >= argv.length) throw new UsageError(`option --${n} (-${ch}) needs a value`);
              value = argv[++i]!;
            }
            set(n, value);
            break;
          }
          continue;
        }
        if (inline !== undefined && inline !== 'true' && inline !== 'false') {
          throw new UsageError(`option --${name} takes no value (got "${inline}")`);
        }
        set(name, inline !== 'false');
        continue;
      }
      if (inline === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
        inline = argv[++i]!;
      }
      set(name, inline);
      continue;
    }
    if (opts.stopAtOperand) {
      operands.push(...argv.slice(i));
      i = argv.length;
      break;
    }
    operands.push(tok);
  }
  return { options, operands };
}
