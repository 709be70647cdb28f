// Runs a command on a pseudo-terminal (util-linux `script`) and returns what it wrote there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/**
 * argv on a pseudo-terminal: stdout and stderr both reach it, as for a person. stdin stays open
 * until the command ends: at end of input `script` itself writes a NUL to the terminal, for any
 * command.
 */
export async function onTerminal(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // A terminal without a size (script's own stdin is none) would be taken as 80 columns.
  const child = spawn('script', ['-qec', `stty cols 160 rows 40; ${quoted}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'], env });
  let out = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end();
  return { code, out };
}

/** onTerminal that must succeed. */
export async function onTerminalOk(argv: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const { code, out } = await onTerminal(argv, env);
  assert.equal(code, 0, `${argv.join(' ')} on a terminal: exit ${code}, output ${JSON.stringify(out)}`);
  return out;
}
