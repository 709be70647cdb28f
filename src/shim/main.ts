// containerd-shim-berth-v2's entry: parses containerd's command line and dispatches the action:
// start (launch or join the resident engine and print its address: start.ts), delete (clean up
// after a dead engine and print a DeleteResponse: delete.ts), serve (the engine: engine.ts).
// Each action is loaded only when it runs: start must stay quick.
import { UsageError } from '../core/errors.js';
import { BERTH_VERSION } from '../core/version.js';
import { HelpRequested, parseShimArgs, shimUsage, type ShimArgs } from './args.js';

export const SHIM_PROGRAM = 'containerd-shim-berth-v2';

export interface ShimIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Binary output (delete's DeleteResponse). */
  stdoutBytes: (b: Uint8Array) => void;
  env: NodeJS.ProcessEnv;
}

const processIo: ShimIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (b) => process.stdout.write(b),
  env: process.env,
};

type ActionHandler = (args: ShimArgs, io: ShimIo) => Promise<number>;

export const ACTIONS: Record<ShimArgs['action'], ActionHandler> = {
  start: async (args, io) => (await import('./start.js')).startAction(args, io),
  delete: async (args, io) => (await import('./delete.js')).deleteAction(args, io),
  serve: async (args, io) => (await import('./engine.js')).serveAction(args, io),
};

/**
 * Runs the shim; resolves to its exit status. As containerd's Go shims do: a usage error prints
 * the message and the usage and is 2, -h is 0, a failing action prints `<id>: <error>` on stderr
 * (containerd shows start's stdout and stderr together) and is 1.
 */
export async function runShim(argv: readonly string[], io: ShimIo = processIo): Promise<number> {
  let args: ShimArgs;
  try {
    args = parseShimArgs(argv, io.env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.stderr(shimUsage(SHIM_PROGRAM));
      return 0;
    }
    if (err instanceof UsageError) {
      io.stderr(`${SHIM_PROGRAM}: ${err.message}\n${shimUsage(SHIM_PROGRAM)}`);
      return 2;
    }
    throw err;
  }
  if (args.version) {
    io.stdout(`${SHIM_PROGRAM}:\n  Version:  ${BERTH_VERSION}\n\n`);
    return 0;
  }
  try {
    return await ACTIONS[args.action](args, io);
  } catch (err) {
    io.stderr(`${args.id}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
