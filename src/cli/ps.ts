import { readFileSync } from 'node:fs';
import { containerId, formatOption, openRuntime, printTable, type VerbContext } from './context.js';

export default async function ps(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  const format = formatOption(ctx);
  const pids = await (await openRuntime(ctx)).ps(id);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return;
  }
  printTable(['PID', 'CMD'], pids.map((pid) => [String(pid), commandLine(pid)]));
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}
