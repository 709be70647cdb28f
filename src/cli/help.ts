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

"berth <verb> --help" describes a verb. Exit codes: docs/cli.md.
`;
}

export function verbHelp(name: string): string {
  const v = VERBS[name];
  if (!v) throw unknownVerb(name);
  return `Usage: berth [global options] ${name} [options]${v.operands ? ` ${v.operands}` : ''}

${v.summary}

${v.details ? `${v.details}\n\n` : ''}Options:
${optionLines(v.options)}
`;
}

export default async function help(ctx: VerbContext): Promise<void> {
  const [name] = ctx.operands;
  process.stdout.write(name === undefined ? mainHelp() : verbHelp(name));
}
