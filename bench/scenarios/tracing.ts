// What tracing costs a CLI call: the same verb with and without an OTLP endpoint. With one,
// berth loads OpenTelemetry, makes the call's spans and exports them (to a receiver in this
// process) before it exits; without one, none of that is loaded.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/bundle.js';
import { BERTH_BIN } from '../../test/helpers/paths.js';
import { iterations } from '../cycle.js';
import { CleanupScope, commandSubject, compare, spreadNotes } from '../measure.js';
import type { ScenarioResult } from '../scenario.js';

export const description =
  'The cost of tracing for one CLI call. Baseline: `berth --root R delete --force ID` of an unknown id (an ' +
  'operation: it is journalled, and with tracing it makes spans) with no OTLP endpoint set. Candidate: the same ' +
  'with `OTEL_EXPORTER_OTLP_ENDPOINT` naming a receiver on loopback, so berth loads OpenTelemetry, makes the ' +
  'call\'s spans and exports them before it exits.';

export async function run(): Promise<ScenarioResult> {
  const scope = new CleanupScope();
  try {
    const tmp = tempDir('berth-bench-tracing-');
    scope.add('temp dir', tmp.remove);
    let exports = 0;
    const receiver = createServer((req, res) => {
      req.resume().on('end', () => {
        exports += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    scope.add('OTLP receiver', () => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const port = (receiver.address() as { port: number }).port;
    const root = join(tmp.path, 'root');
    const argv = [BERTH_BIN, '--root', root, 'delete', '--force', 'bench-nosuch'];
    const { OTEL_EXPORTER_OTLP_ENDPOINT: _a, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: _b, TRACEPARENT: _c, ...plain } = process.env;
    const c = await compare(
      commandSubject('delete --force (no tracing)', argv, { env: plain }),
      [commandSubject('delete --force (traced, exported)', argv, { env: { ...plain, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } })],
      { iterations: iterations(20), warmup: 2 },
    );
    if (exports < c.candidates[0]!.iterations) throw new Error(`only ${exports} exports arrived for ${c.candidates[0]!.iterations} traced calls`);
    return { title: 'Tracing: a CLI call with an OTLP endpoint vs without', baseline: c.baseline, candidates: c.candidates, notes: spreadNotes(c) };
  } finally {
    const failures = await scope.close();
    if (failures.length) console.error(`cleanup after tracing: ${failures.join('; ')}`);
  }
}
