// What a shell may complete where, derived from the verb table (src/cli/verbs.ts): the one
// source that help and the man pages read too. The shell scripts (completion.ts) embed it.
import { BACKEND_NAMES } from '../backends/registry.js';
import type { OptionSpec, OptionSpecs } from './args.js';
import { HELP_TOPICS } from './help-topics.js';
import { GLOBAL_OPTIONS, VERBS } from './verbs.js';

/** What an option's value or an operand is: completed from berth itself, from files, or from a list. */
export type ValueKind = 'container' | 'image' | 'file' | 'dir' | 'backend' | 'signal' | 'verb' | 'none' | { words: string[] };

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** An option's value, from its name and the value name help shows. */
export function optionValueKind(name: string, spec: OptionSpec): ValueKind {
  if (spec.type === 'boolean') return 'none';
  const v = spec.valueName ?? '';
  if (name === 'runtime') return 'backend';
  if (name === 'image') return 'image';
  if (/^[a-z]+(\|[a-z]+)+$/.test(v)) return { words: v.split('|') };
  if (v === 'DIR') return 'dir';
  if (/FILE|SOCKET|PATH/.test(v)) return 'file';
  return 'none';
}

/** The kinds of a usage string's operands, in order: `<container-id> [signal]` → container, signal. */
export function operandKinds(usage: string): ValueKind[] {
  const kinds: ValueKind[] = [];
  let inOption = false; // inside `[--opt VALUE]`: the value is the option's, not an operand
  for (const token of usage.split(/\s+/).filter(Boolean)) {
    if (inOption || token.startsWith('-') || token.startsWith('[-')) {
      inOption = token.startsWith('[') ? !token.endsWith(']') : inOption && !token.endsWith(']');
      continue;
    }
    const t = token.replace(/[[\]<>]/g, '');
    if (t === '...' || t === 'args...' || t === 'operands') continue;
    if (/^(container-id|id|ID)$/.test(t)) kinds.push('container');
    else if (t === 'signal') kinds.push('signal');
    else if (t === 'verb') kinds.push('verb');
    else if (t === 'verb|topic') kinds.push({ words: [...Object.keys(VERBS), ...Object.keys(HELP_TOPICS)] });
    else if (/^[a-z]+(\|[a-z]+)+$/.test(t)) kinds.push({ words: t.split('|') });
    else if (t === 'REF') kinds.push('image');
    else if (/^PATH/.test(t)) kinds.push('file');
    else kinds.push('none');
  }
  return kinds;
}

export interface CompletionModel {
  verbs: { name: string; summary: string }[];
  /** Options by verb ('' for the global ones): long name, short letter, value kind, description. */
  options: Record<string, { name: string; short?: string; kind: ValueKind; description: string }[]>;
  subcommands: Record<string, { name: string; summary: string }[]>;
  /** Operand kinds by verb, or by `verb sub` for a verb of subcommands. */
  operands: Record<string, ValueKind[]>;
  backends: readonly string[];
}

function optionList(specs: OptionSpecs): CompletionModel['options'][string] {
  return Object.entries(specs).map(([name, s]) => ({ name, ...(s.short ? { short: s.short } : {}), kind: optionValueKind(name, s), description: s.description }));
}

export function completionModel(): CompletionModel {
  const model: CompletionModel = { verbs: [], options: { '': optionList(GLOBAL_OPTIONS) }, subcommands: {}, operands: {}, backends: BACKEND_NAMES };
  for (const [name, v] of Object.entries(VERBS)) {
    model.verbs.push({ name, summary: v.summary });
    model.options[name] = optionList(v.options);
    if (v.subcommands) {
      model.subcommands[name] = Object.entries(v.subcommands).flatMap(([sub, s]) => [sub, ...(s.aliases ?? [])].map((n) => ({ name: n, summary: s.summary })));
      for (const [sub, s] of Object.entries(v.subcommands)) for (const n of [sub, ...(s.aliases ?? [])]) model.operands[`${name} ${n}`] = operandKinds(s.usage);
    } else {
      model.operands[name] = operandKinds(v.operands);
    }
  }
  return model;
}
