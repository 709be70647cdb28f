// Turns tracing on for one CLI call when an OTLP endpoint is configured: loads OpenTelemetry
// (only then), installs it behind core/tracing.ts, and hands back what flushes it at the end.
import { log, errorFields } from '../core/log.js';
import { installTracer } from '../core/tracing.js';
import { BERTH_VERSION } from '../core/version.js';

export interface CliTracing {
  shutdown(): Promise<void>;
}

export async function startCliTracing(): Promise<CliTracing | undefined> {
  try {
    const { startTracing } = await import('../telemetry/tracing.js');
    const tracing = startTracing({ serviceVersion: BERTH_VERSION });
    installTracer(tracing.tracer);
    return {
      async shutdown() {
        installTracer(undefined);
        try {
          await tracing.shutdown();
        } catch (err) {
          await log('warn', 'cannot export traces', errorFields(err));
        }
      },
    };
  } catch (err) {
    // Tracing is an aid: a collector URL that cannot be used never fails the operation.
    await log('warn', 'cannot start tracing; going on without it', errorFields(err));
    return undefined;
  }
}
