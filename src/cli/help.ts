import { UsageError } from '../core/errors.js';
import type { OptionSpecs } from './args.js';
import type { VerbContext } from './context.js';
import { GLOBAL_OPTIONS, VERBS, unknownVerb } from './verbs.js';

function optionLines(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ` ${s.valueName ?? 'VALUE'}` : ''}`;
    return [left, s.description] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`).join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  const verbs = Object.entries(VERBS)
    .map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`)
    .join('\n');
  return `berth: a runc-compatible OCI container runtime and manager over crun, runc, LXC and Proxmox VE

Usage: berth [global options] <verb> [options] [operands]

Verbs:
${verbs}

Global options:
${optionLines(GLOBAL_OPTIONS)}

"berth <verb> --help" describes a verb; "berth help TOPIC" explains routing, storage,
images or exit-codes. "man berth" and "man berth-VERB" after scripts/install.sh.
`;
}

/** The subcommands of a verb, as help lists them: usage line, then the summary indented under it. */
export function subcommandLines(verb: string): string {
  const subs = VERBS[verb]?.subcommands ?? {};
  return Object.entries(subs)
    .map(([sub, s]) => `  ${sub}${s.usage ? ` ${s.usage}` : ''}${s.aliases?.length ? ` (also: ${s.aliases.join(', ')})` : ''}\n${wrap(s.summary, 70).map((l) => `      ${l}`).join('\n')}`)
    .join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) [lines[lines.length], line] = [line, word];
    else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

export function verbHelp(name: string): string {
  const v = VERBS[name];
  if (!v) throw unknownVerb(name);
  const subs = v.subcommands ? `Subcommands:\n${subcommandLines(name)}\n\n` : '';
  return `Usage: berth [global options] ${name} [options]${v.operands ? ` ${v.operands}` : ''}

${v.summary}

${subs}${v.details ? `${v.details}\n\n` : ''}Options:
${optionLines(v.options)}
`;
}

export default async function help(ctx: VerbContext): Promise<void> {
  const [name] = ctx.operands;
  if (name !== undefined && !Object.hasOwn(VERBS, name)) {
    const { HELP_TOPICS } = await import('./help-topics.js');
    if (Object.hasOwn(HELP_TOPICS, name)) return void process.stdout.write(`${HELP_TOPICS[name]!.text()}\n`);
    const { didYouMean } = await import('../core/suggest.js');
    const words = [...Object.keys(VERBS), ...Object.keys(HELP_TOPICS)];
    throw new UsageError(`no verb or help topic "${name}"${didYouMean(name, words)} (topics: ${Object.keys(HELP_TOPICS).join(', ')}; verbs: berth help)`);
  }
  process.stdout.write(name === undefined ? mainHelp() : verbHelp(name));
}
