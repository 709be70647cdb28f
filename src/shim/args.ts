// The shim's command line as containerd 1.6 builds it (runtime/v2/shim/util.go, binary.go):
//   start:  -namespace NS -address SOCK -publish-binary BIN -id ID [-debug] start   (cwd: the bundle)
//   delete: -namespace NS -address SOCK -publish-binary BIN -id ID -bundle PATH delete
// with TTRPC_ADDRESS in the environment, and no action for the resident server the shim
// starts itself. The syntax is Go's flag package: single-dash long names, `-name value` or
// `-name=value`, `--name` alike, booleans without a value, options end at the first operand or
// `--`. Hand-written: berth's CLI parser (src/cli/args.ts) speaks runc's syntax, not Go's.
import { UsageError } from '../core/errors.js';

interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
}

/** The flags of containerd's shim v2 contract (shim.go parseFlags), one list for the parser and the usage text. */
export const SHIM_FLAGS = {
  namespace: { type: 'string', description: 'namespace that owns the shim' },
  id: { type: 'string', description: 'id of the task' },
  address: { type: 'string', description: 'grpc address back to main containerd' },
  'publish-binary': { type: 'string', description: 'path to publish binary (used for publishing events)' },
  bundle: { type: 'string', description: 'path to the bundle if not workdir' },
  socket: { type: 'string', description: 'socket path to serve' },
  debug: { type: 'boolean', description: 'enable debug output in logs' },
  v: { type: 'boolean', description: 'show the shim version and exit' },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof SHIM_FLAGS;

export const SHIM_ACTIONS = ['start', 'delete'] as const;
/** `serve` is the resident shim: the command line without an action. */
export type ShimAction = (typeof SHIM_ACTIONS)[number] | 'serve';

export interface ShimArgs {
  action: ShimAction;
  namespace: string;
  id: string;
  /** containerd's gRPC socket. */
  address: string;
  /** containerd's own binary, for `publish` (berth forwards events over ttrpc instead). */
  publishBinary: string;
  /** The bundle; empty means the working directory (containerd starts the shim in it). */
  bundle: string;
  socket: string;
  debug: boolean;
  version: boolean;
  /** containerd's ttrpc socket for events (TTRPC_ADDRESS). */
  ttrpcAddress: string;
}

/** Thrown for -h / -help: the caller prints the usage and exits 0, as Go's flag package does. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
  }
}

const BOOL_VALUES: Record<string, boolean> = { '1': true, t: true, T: true, true: true, TRUE: true, True: true, '0': false, f: false, F: false, false: false, FALSE: false, False: false };

export function parseShimArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ShimArgs {
  const values: { [K in FlagName]?: string | boolean } = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== '-') break;
    if (arg === '--') {
      i++;
      break;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body[0] === '-' || body[0] === '=') throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    if (name === 'h' || name === 'help') throw new HelpRequested();
    if (!Object.hasOwn(SHIM_FLAGS, name)) throw new UsageError(`flag provided but not defined: -${name}`);
    const flag = name as FlagName;
    if (SHIM_FLAGS[flag].type === 'boolean') {
      if (inline === undefined) values[flag] = true;
      else if (Object.hasOwn(BOOL_VALUES, inline)) values[flag] = BOOL_VALUES[inline]!;
      else throw new UsageError(`invalid boolean value "${inline}" for -${name}`);
    } else if (inline !== undefined) {
      values[flag] = inline;
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      values[flag] = argv[++i]!;
    }
  }
  const operands = argv.slice(i);
  const [action, ...extra] = operands;
  if (action !== undefined && !(SHIM_ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown action "${action}": the shim takes ${SHIM_ACTIONS.join(' or ')}, or none to serve`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments after "${action}": ${extra.join(' ')}`);

  const str = (f: FlagName, dflt = ''): string => (typeof values[f] === 'string' ? (values[f] as string) : dflt);
  const args: ShimArgs = {
    action: (action as ShimAction | undefined) ?? 'serve',
    namespace: str('namespace'),
    id: str('id'),
    address: str('address'),
    publishBinary: str('publish-binary', 'containerd'),
    bundle: str('bundle'),
    socket: str('socket'),
    debug: values.debug === true,
    version: values.v === true,
    ttrpcAddress: env.TTRPC_ADDRESS ?? '',
  };
  if (args.version) return args;
  // The same check as containerd's own shims, then what every action needs to find its task.
  if (args.namespace === '') throw new UsageError('shim namespace cannot be empty (-namespace)');
  if (args.id === '') throw new UsageError(`the shim needs the task id (-id) for ${args.action}`);
  if (args.action !== 'delete' && args.address === '') throw new UsageError(`the shim needs containerd's address (-address) for ${args.action}`);
  return args;
}

/** Go flag's usage text, from SHIM_FLAGS. */
export function shimUsage(program: string): string {
  const lines = [`Usage of ${program}:`, `  ${program} [flags] start|delete`];
  for (const [name, spec] of Object.entries(SHIM_FLAGS) as Array<[string, FlagSpec]>) {
    lines.push(`  -${name}${spec.type === 'string' ? ' string' : ''}`, `    \t${spec.description}`);
  }
  return lines.join('\n') + '\n';
}
