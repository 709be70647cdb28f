// A console socket receiver for tests (test/helpers/console.c, built with gcc on first use): runs
// a runtime with --console-socket the way conmon or containerd's shim does, resizes the terminal
// it gets, types INPUT into it and collects what the container writes to it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProgram, type BerthResult } from './berth.js';
import { REPO_ROOT } from './paths.js';

const SOURCE = join(REPO_ROOT, 'test/helpers/console.c');

/** The size the receiver gives every terminal (rows, columns). */
export const CONSOLE_SIZE = '33 101';

export interface ConsoleRun {
  result: BerthResult;
  /** How the runtime itself ended: "exit N" or "signal N". */
  command: string | undefined;
  /** Whether a pty master arrived on the socket. */
  gotTerminal: boolean;
  /** Everything read from the master. */
  output: string;
}

export function buildConsoleReceiver(dir: string): string {
  const bin = join(dir, 'console');
  if (!existsSync(bin)) execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', bin, SOURCE]);
  return bin;
}

/** Runs `argv(socket)` with a receiver listening on `socket`; INPUT is typed once a terminal arrives. */
export async function withConsole(bin: string, socket: string, input: string, argv: string[], timeoutMs = 30_000): Promise<ConsoleRun> {
  const outFile = `${socket}.out`;
  const result = await runProgram(bin, [socket, outFile, input, '--', ...argv], { timeoutMs });
  const lines = result.stdout.split('\n');
  const command = lines.find((l) => /^(exit|signal) \d+$/.test(l));
  return { result, command, gotTerminal: lines.some((l) => l.startsWith('got-terminal ')), output: existsSync(outFile) ? readFileSync(outFile, 'utf8') : '' };
}
