// berth serve: the long-running side of the metrics. Reads the journal that other berth
// processes append to under --root, and serves it with the containers' status until SIGTERM.
import { BACKEND_NAMES } from '../backends/registry.js';
import { errorFields, log } from '../core/log.js';
import type { Runtime } from '../runtime/runtime.js';
import { BERTH_VERSION } from '../core/version.js';
import { BerthMetrics } from '../telemetry/metrics.js';
import { DEFAULT_LISTEN, isLoopback, parseListen, readTokenFile, startMetricsServer } from '../telemetry/server.js';
import { noOperands, openRuntime, stringOption, type VerbContext } from './context.js';

/** How long a figure of the image cache's size is served before the cache is listed again. */
const IMAGE_CACHE_BYTES_TTL_MS = 15_000;

/**
 * The image cache's size for berth_image_cache_bytes: listing it asks the storage driver (zfs
 * commands), so a figure is reused for a while rather than costing every scrape. No figure
 * (and no gauge) when the cache cannot be read, e.g. storage not set up on this host.
 */
function imageCacheBytes(runtime: Runtime): () => Promise<number | undefined> {
  let memo: { at: number; bytes: number | undefined } | undefined;
  return async () => {
    if (memo && Date.now() - memo.at < IMAGE_CACHE_BYTES_TTL_MS) return memo.bytes;
    let bytes: number | undefined;
    try {
      bytes = (await (await runtime.images()).list()).reduce((sum, image) => sum + image.size, 0);
    } catch (err) {
      await log('debug', 'cannot read the image cache for berth_image_cache_bytes', { op: 'serve', ...errorFields(err) });
    }
    memo = { at: Date.now(), bytes };
    return bytes;
  };
}

export default async function serve(ctx: VerbContext): Promise<void> {
  noOperands(ctx);
  const listen = parseListen(stringOption(ctx, 'listen') ?? DEFAULT_LISTEN);
  const tokenFile = stringOption(ctx, 'token-file');
  const token = tokenFile === undefined ? undefined : readTokenFile(tokenFile);
  if (token?.warning) await log('warn', token.warning, { op: 'serve' });
  const runtime = await openRuntime(ctx);
  const metrics = new BerthMetrics({
    stateDir: runtime.stateDir,
    version: BERTH_VERSION,
    backends: BACKEND_NAMES,
    containers: () => runtime.list(),
    imageCacheBytes: imageCacheBytes(runtime),
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
