// berth serve: the long-running side of the metrics. Reads the journal that other berth
// processes append to under --root, and serves it with the containers' status until SIGTERM.
import { BACKEND_NAMES } from '../backends/registry.js';
import { log } from '../core/log.js';
import { BERTH_VERSION } from '../core/version.js';
import { BerthMetrics } from '../telemetry/metrics.js';
import { DEFAULT_LISTEN, isLoopback, parseListen, readTokenFile, startMetricsServer } from '../telemetry/server.js';
import { noOperands, openRuntime, stringOption, type VerbContext } from './context.js';

export default async function serve(ctx: VerbContext): Promise<void> {
  noOperands(ctx);
  const listen = parseListen(stringOption(ctx, 'listen') ?? DEFAULT_LISTEN);
  const tokenFile = stringOption(ctx, 'token-file');
  const token = tokenFile === undefined ? undefined : readTokenFile(tokenFile);
  if (token?.warning) await log('warn', token.warning, { op: 'serve' });
  const runtime = await openRuntime(ctx);
  const metrics = new BerthMetrics({
    root: ctx.globals.root,
    version: BERTH_VERSION,
    backends: BACKEND_NAMES,
    containers: () => runtime.list(),
  });
  const server = await startMetricsServer({ listen, token: token?.token, metrics });
  if (!isLoopback(listen) && token === undefined) {
    await log('warn', `serving metrics on ${server.url}, which is not a loopback address, without --token-file`, { op: 'serve' });
  }
  await log('info', `serving metrics on ${server.url}`, { op: 'serve', root: ctx.globals.root });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await server.close();
  await log('info', `stopped on ${signal}`, { op: 'serve' });
}
