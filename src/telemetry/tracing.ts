// The OpenTelemetry side of core/tracing.ts: a tracer provider that exports spans over OTLP/HTTP
// (JSON) to $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces.
// Loaded only when one of them is set (the CLI checks tracesWanted() first). A caller's trace is
// continued from $TRACEPARENT (W3C trace context). shutdown() flushes: the CLI awaits it before
// it exits, so a short-lived call loses no span.
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { redactText } from '../core/redact.js';
import type { ActiveSpan, SpanAttributes, Tracer } from '../core/tracing.js';

export interface TracingOptions {
  serviceVersion: string;
  env?: NodeJS.ProcessEnv;
}

export interface Tracing {
  tracer: Tracer;
  /** Exports what is left and stops; resolves even if the collector cannot be reached. */
  shutdown(): Promise<void>;
}

function attributes(a: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'string' ? redactText(v) : Array.isArray(v) ? v.map((x: string) => redactText(x)) : (v as number | boolean);
  }
  return out;
}

function wrap(span: Span): ActiveSpan {
  return {
    setAttributes: (a) => void span.setAttributes(attributes(a)),
    fail(err) {
      const message = redactText(err instanceof Error ? err.message : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
      span.addEvent('exception', { 'exception.type': err instanceof Error ? err.name : typeof err, 'exception.message': message, ...(code ? { 'berth.error.code': code } : {}) });
    },
  };
}

/**
 * A CLI call waits for its export before it exits: with a collector that is down, the
 * exporter's default (10 s, with retries) would hold every berth call, and containerd with it.
 * berth waits 2 s unless OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT says otherwise.
 */
export const DEFAULT_EXPORT_TIMEOUT_MS = 2000;

function exportTimeout(env: NodeJS.ProcessEnv): { timeoutMillis?: number } {
  return env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT || env.OTEL_EXPORTER_OTLP_TIMEOUT ? {} : { timeoutMillis: DEFAULT_EXPORT_TIMEOUT_MS };
}

export function startTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'berth', 'service.version': options.serviceVersion }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(exportTimeout(env)) })],
  });
  const otel = provider.getTracer('berth', options.serviceVersion);
  // A span with no active parent continues the caller's trace, if $TRACEPARENT names one.
  const callerContext: Context = env.TRACEPARENT
    ? propagation.extract(ROOT_CONTEXT, { traceparent: env.TRACEPARENT, ...(env.TRACESTATE ? { tracestate: env.TRACESTATE } : {}) })
    : ROOT_CONTEXT;

  const tracer: Tracer = {
    inSpan(name, attrs, fn) {
      const active = context.active();
      const parent = trace.getSpan(active) ? active : callerContext;
      return otel.startActiveSpan(name, { attributes: attributes(attrs) }, parent, async (span) => {
        const handle = wrap(span);
        try {
          return await fn(handle);
        } catch (err) {
          handle.fail(err);
          throw err;
        } finally {
          span.end();
        }
      });
    },
    activeIds() {
      const span = trace.getSpan(context.active());
      if (!span) return undefined;
      const { traceId, spanId } = span.spanContext();
      return { traceId, spanId };
    },
  };
  return {
    tracer,
    async shutdown() {
      await provider.shutdown();
      contextManager.disable();
    },
  };
}
