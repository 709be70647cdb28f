// berth's entry point: reads the global options and the verb, then imports only that verb.
import { parseOptions } from '../cli/args.js';
import type { GlobalOptions, VerbContext } from '../cli/context.js';
import { GLOBAL_OPTIONS, VERBS, operationName, unknownVerb } from '../cli/verbs.js';
import { RootRequiredError, UsageError } from '../core/errors.js';
import { configureLog, levelFrom } from '../core/log.js';
import { inSpan, tracesWanted } from '../core/tracing.js';

const DEFAULT_ROOT = '/run/berth';

// After the verb, -v/--version would be ambiguous (runc verbs use -v for nothing): global
// options other than --version may follow the verb.
const { version: _version, ...GLOBAL_OPTIONS_AFTER_VERB } = GLOBAL_OPTIONS;

function toGlobals(o: Record<string, unknown>, base?: GlobalOptions): GlobalOptions {
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const format = str('log-format') ?? base?.logFormat ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format must be text or json, got "${format}"`);
  const root = str('root') ?? base?.root ?? DEFAULT_ROOT;
  if (root === '') throw new UsageError('--root must not be empty');
  return {
    root,
    log: str('log') ?? base?.log,
    logFormat: format,
    debug: o.debug === true || (base?.debug ?? false),
    systemdCgroup: o['systemd-cgroup'] === true || (base?.systemdCgroup ?? false),
    runtime: str('runtime') ?? base?.runtime,
    config: str('config') ?? base?.config,
  };
}

async function main(argv: string[]): Promise<number> {
  let globals: GlobalOptions = { root: DEFAULT_ROOT, log: undefined, logFormat: 'text', debug: false, systemdCgroup: false, runtime: undefined, config: undefined };
  let verb: string | undefined;
  let id: string | undefined;
  try {
    // The log options come first so that even a usage error lands in the log.
    const head = parseOptions(argv, GLOBAL_OPTIONS, { stopAtOperand: true, context: 'berth' });
    globals = toGlobals(head.options);
    configureLog({ file: globals.log, format: globals.logFormat, ...levelFrom(globals.debug) });
    const [name, ...rest] = head.operands;
    if (head.options.version === true && name === undefined) {
      process.stdout.write((await import('../cli/version.js')).versionLines());
      return 0;
    }
    if (name === undefined || head.options.help === true) {
      const { mainHelp, verbHelp } = await import('../cli/help.js');
      process.stdout.write(name === undefined ? mainHelp() : verbHelp(name));
      return name === undefined && head.options.help !== true ? 2 : 0;
    }
    verb = name;
    const spec = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
    if (!spec) throw unknownVerb(name);
    // Global options are accepted after the verb too.
    const parsed = parseOptions(rest, { ...GLOBAL_OPTIONS_AFTER_VERB, ...spec.options }, { stopAtOperand: spec.stopAtOperand, context: name });
    globals = toGlobals(parsed.options, globals);
    configureLog({ file: globals.log, format: globals.logFormat, ...levelFrom(globals.debug) });
    if (parsed.options.help === true) {
      process.stdout.write((await import('../cli/help.js')).verbHelp(name));
      return 0;
    }
    // image pull, snapshot create …: the operation is verb-subcommand, its subject the next operand.
    verb = operationName(name, parsed.operands);
    id = parsed.operands[verb === name ? 0 : 1];
    // Before anything is read or made: one clear message, not EACCES from somewhere inside.
    if (!spec.anyUser && process.getuid?.() !== 0) {
      throw new RootRequiredError(
        `berth needs root: \`berth ${name}\` works with cgroups, namespaces, mounts and the container state under ${globals.root}, which only root may change; run it as root (e.g. \`sudo berth ${name} …\`). \`berth doctor\` checks the host as any user`,
      );
    }
    const ctx: VerbContext = { verb: name, globals, options: parsed.options, operands: parsed.operands };
    const handler = (await spec.load()).default;
    // `serve` runs for days and makes no operations of its own: it is not traced.
    if (!tracesWanted() || name === 'serve') return (await handler(ctx)) ?? 0;
    // With an OTLP endpoint: the whole call is one span (all of its spans share its trace id),
    // and the spans are flushed before berth exits.
    const tracing = await (await import('../cli/tracing.js')).startCliTracing();
    try {
      return await inSpan(`berth ${name}`, { 'berth.verb': name, 'berth.container.id': id }, async (span) => {
        try {
          return (await handler(ctx)) ?? 0;
        } catch (err) {
          span.fail(err);
          const { reportFailure } = await import('../cli/exit.js');
          return reportFailure(err, { op: verb, id }, globals);
        }
      });
    } finally {
      await tracing?.shutdown();
    }
  } catch (err) {
    const { reportFailure } = await import('../cli/exit.js');
    return reportFailure(err, { op: verb, id }, globals);
  }
}

process.exitCode = await main(process.argv.slice(2));
