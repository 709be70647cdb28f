// The tracing API every layer calls: `inSpan(name, attributes, fn)` runs fn as a child of the
// active span. It is a no-op (fn runs as it is) until the CLI installs a tracer, which it does
// only when an OTLP endpoint is configured; so no layer imports OpenTelemetry, and a plain CLI
// call never loads it. src/telemetry/tracing.ts is the OpenTelemetry implementation.

export type SpanAttributes = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface TraceIds {
  traceId: string;
  spanId: string;
}

export interface Tracer {
  inSpan<T>(name: string, attributes: SpanAttributes, fn: (span: ActiveSpan) => Promise<T>): Promise<T>;
  /** The active span's ids, for log lines. */
  activeIds(): TraceIds | undefined;
}

/** What code running inside a span may add to it. */
export interface ActiveSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed without throwing (for code that handles the error itself). */
  fail(err: unknown): void;
}

const NO_SPAN: ActiveSpan = { setAttributes() {}, fail() {} };

let tracer: Tracer | undefined;

export function installTracer(next: Tracer | undefined): void {
  tracer = next;
}

export function tracingActive(): boolean {
  return tracer !== undefined;
}

/**
 * Runs `fn` in a span named `name` (a child of the active one). An error thrown by fn marks
 * the span as failed and is rethrown unchanged. Span names used by berth: `berth <verb>` (the
 * CLI call), `<op>` (a runtime operation), `backend.<method>`, `storage.<op>`, `exec <tool>`,
 * and for the images layer `image.pull`, `image.unpack`, `image.layer` (see docs/metrics.md).
 */
export function inSpan<T>(name: string, attributes: SpanAttributes, fn: (span: ActiveSpan) => Promise<T>): Promise<T> {
  return tracer ? tracer.inSpan(name, attributes, fn) : fn(NO_SPAN);
}

export function activeTraceIds(): TraceIds | undefined {
  return tracer?.activeIds();
}

/** Traces are exported only when an OTLP endpoint is configured (and the SDK is not disabled). */
export function tracesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}
