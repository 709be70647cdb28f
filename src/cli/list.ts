import { log } from '../core/log.js';
import { flag, formatOption, noOperands, openRuntime, printJson, printTable, type VerbContext } from './context.js';

export default async function list(ctx: VerbContext): Promise<void> {
  noOperands(ctx);
  const format = formatOption(ctx);
  const entries = await (await openRuntime(ctx)).list();
  // On stderr: stdout stays the listing clients parse.
  for (const e of entries) if (e.volumeProblem) await log('warn', `container "${e.id}": ${e.volumeProblem}`, { op: 'list', id: e.id });
  if (flag(ctx, 'quiet')) {
    for (const e of entries) process.stdout.write(e.id + '\n');
    return;
  }
  if (format === 'json') return printJson(entries);
  printTable(
    ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER', 'BACKEND'],
    entries.map((e) => [e.id, String(e.pid), e.status, e.bundle, e.created, e.owner, e.backendRef ? `${e.backend}:${e.backendRef}` : e.backend]),
  );
}
