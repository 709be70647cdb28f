// berth man [VERB] [--output DIR]: man pages (troff) made from the verb table, as help is:
// berth(1) and berth-VERB(1). scripts/install.sh writes them into the man path.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { BERTH_VERSION } from '../core/version.js';
import type { OptionSpecs } from './args.js';
import type { VerbContext } from './context.js';
import { EXIT_CODES, EXIT_MEANINGS } from './exit.js';
import { HELP_TOPICS } from './help-topics.js';
import { GLOBAL_OPTIONS, unknownVerb, VERBS } from './verbs.js';

/** Text as troff reads it: backslashes and hyphens escaped, no line starting a request. */
function esc(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function header(name: string, summary: string): string {
  return `.TH ${name.toUpperCase()} 1 "" "berth ${BERTH_VERSION}" "berth manual"\n.SH NAME\n${esc(name)} \\- ${esc(summary)}\n`;
}

function options(specs: OptionSpecs): string {
  return Object.entries(specs)
    .map(([name, s]) => {
      const flags = [...(s.short ? [`\\fB\\-${s.short}\\fR`] : []), `\\fB\\-\\-${esc(name)}\\fR`].join(', ');
      return `.TP\n${flags}${s.type === 'string' ? ` \\fI${esc(s.valueName ?? 'VALUE')}\\fR` : ''}\n${esc(s.description)}\n`;
    })
    .join('');
}

function exitStatus(): string {
  const codes = (n: number): string[] => Object.entries(EXIT_CODES).filter(([, e]) => e === n).map(([c]) => c);
  return `.SH EXIT STATUS\n${Object.entries(EXIT_MEANINGS)
    .map(([n, meaning]) => `.TP\n\\fB${n}\\fR\n${esc(meaning)}${codes(Number(n)).length ? ` (${esc(codes(Number(n)).join(', '))})` : ''}\n`)
    .join('')}`;
}

const seeAlso = (except: string): string =>
  `.SH SEE ALSO\n${['berth', ...Object.keys(VERBS).map((v) => `berth-${v}`)].filter((p) => p !== except).map((p) => `\\fB${esc(p)}\\fR(1)`).join(', ')}\n`;

export function verbManPage(verb: string): string {
  const v = VERBS[verb];
  if (!v) throw unknownVerb(verb);
  let page = header(`berth-${verb}`, v.summary);
  page += `.SH SYNOPSIS\n\\fBberth\\fR [\\fIglobal options\\fR] \\fB${esc(verb)}\\fR [\\fIoptions\\fR] ${esc(v.operands)}\n`;
  page += `.SH DESCRIPTION\n${esc(v.summary)}.\n`;
  if (v.details) page += `.PP\n.nf\n${esc(v.details)}\n.fi\n`;
  if (v.subcommands) {
    page += '.SH SUBCOMMANDS\n';
    for (const [sub, s] of Object.entries(v.subcommands)) page += `.TP\n\\fB${esc(sub)}\\fR ${esc(s.usage)}\n${esc(s.summary)}${s.aliases?.length ? ` (also: ${esc(s.aliases.join(', '))})` : ''}\n`;
  }
  page += `.SH OPTIONS\n${options(v.options)}.SH GLOBAL OPTIONS\n${options(GLOBAL_OPTIONS)}${exitStatus()}${seeAlso(`berth-${verb}`)}`;
  return page;
}

export function mainManPage(): string {
  let page = header('berth', 'a runc-compatible OCI container runtime and manager over crun, runc, LXC and Proxmox VE');
  page += `.SH SYNOPSIS\n\\fBberth\\fR [\\fIglobal options\\fR] \\fIverb\\fR [\\fIoptions\\fR] [\\fIoperands\\fR]\n.SH VERBS\n`;
  for (const [name, v] of Object.entries(VERBS)) page += `.TP\n\\fB${esc(name)}\\fR\n${esc(v.summary)}; see \\fBberth\\-${esc(name)}\\fR(1)\n`;
  page += `.SH GLOBAL OPTIONS\n${options(GLOBAL_OPTIONS)}`;
  for (const [topic, t] of Object.entries(HELP_TOPICS)) page += `.SH ${esc(t.title.toUpperCase())}\n.nf\n${esc(t.text())}\n.fi\n.PP\n(\\fBberth help ${esc(topic)}\\fR)\n`;
  return page + exitStatus() + seeAlso('berth');
}

export default async function man(ctx: VerbContext): Promise<void> {
  const dir = typeof ctx.options.output === 'string' ? ctx.options.output : undefined;
  const [verb, ...rest] = ctx.operands;
  if (rest.length > 0 || (dir !== undefined && verb !== undefined)) throw new UsageError('man takes one verb (the page to print) or --output DIR (every page), not both');
  if (dir === undefined) {
    process.stdout.write(verb === undefined ? mainManPage() : verbManPage(verb));
    return;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'berth.1'), mainManPage());
  for (const v of Object.keys(VERBS)) writeFileSync(join(dir, `berth-${v}.1`), verbManPage(v));
  process.stdout.write(`${Object.keys(VERBS).length + 1} pages in ${dir}\n`);
}
