import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ConfigError, optionalVar, urlVar, type Env } from './config';

/**
 * OpenTelemetry tracing, on only when an OTLP endpoint is configured. Spans
 * are made by hand through `@opentelemetry/api`; while tracing is off every
 * helper here is a branch on one boolean (no span objects, no context
 * manager, no AsyncLocalStorage).
 */
export interface TelemetryConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON encoding); tracing is off when undefined. */
  readonly tracesUrl?: string;
  /** `service.name` of the exported resource (`OTEL_SERVICE_NAME`); the service's own name when undefined. */
  readonly serviceName?: string;
  /** Extra headers of the export requests (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. a collector's API key. Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** Which traces are recorded (`OTEL_TRACES_SAMPLER`). Default `parentbased_always_on`. */
  readonly sampler: SamplerName;
  /** The ratio of `traceidratio` samplers (`OTEL_TRACES_SAMPLER_ARG`), 0–1. Default 1. */
  readonly samplerRatio: number;
}

/** The samplers of the OpenTelemetry specification's `OTEL_TRACES_SAMPLER` this service knows. */
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

function samplerOf({ sampler, samplerRatio }: TelemetryConfig): Sampler {
  const root = sampler.endsWith('always_on')
    ? new AlwaysOnSampler()
    : sampler.endsWith('always_off')
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(samplerRatio);
  return sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** `k1=v1,k2=v2` with URL-encoded values, as the OpenTelemetry specification defines `OTEL_EXPORTER_OTLP_HEADERS`. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new ConfigError(
        'OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list of key=value (the value URL-encoded)',
      );
    headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

function samplerVar(env: Env): SamplerName {
  const raw = optionalVar(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(raw))
    throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as SamplerName;
}

function ratioVar(env: Env): number {
  const raw = optionalVar(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, got ${JSON.stringify(raw)}`);
  return ratio;
}

/**
 * Reads the standard OpenTelemetry variables a service honours:
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (spans go to `<endpoint>/v1/traces`),
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the traces URL as is; wins),
 * `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`,
 * `OTEL_TRACES_SAMPLER_ARG`.
 */
export function loadTelemetryConfig(env: Env): TelemetryConfig {
  let tracesUrl: string | undefined;
  if (optionalVar(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'))
    tracesUrl = urlVar(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  else if (optionalVar(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'))
    tracesUrl = `${urlVar(env, 'OTEL_EXPORTER_OTLP_ENDPOINT').replace(/\/+$/, '')}/v1/traces`;
  return Object.freeze({
    tracesUrl,
    serviceName: optionalVar(env, 'OTEL_SERVICE_NAME'),
    headers: Object.freeze(parseHeaders(optionalVar(env, 'OTEL_EXPORTER_OTLP_HEADERS'))),
    sampler: samplerVar(env),
    samplerRatio: ratioVar(env),
  });
}

/** One service's hold on the process's tracing. */
export interface Telemetry {
  /** True when spans are exported. */
  readonly enabled: boolean;
  /** Flushes the spans not yet exported; the last holder of the process also stops the exporter. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * The process's tracer provider. Several services may share a process (the
 * in-process platform of the tests, `startPlatform`): the first one to start
 * tracing sets it up and the last one to shut down flushes and removes it.
 * Each service's spans carry its name as their instrumentation scope.
 */
let installed: { provider: BasicTracerProvider; holders: number } | undefined;

/** True while a tracer provider is installed: spans are recorded and exported. */
export function tracingEnabled(): boolean {
  return installed !== undefined;
}

/**
 * Starts exporting spans if `config` names an endpoint; otherwise changes
 * nothing and costs nothing. `service` is the default `service.name`.
 */
export function startTelemetry(config: TelemetryConfig, service: string): Telemetry {
  if (!config.tracesUrl) return { enabled: false, shutdown: async () => undefined };
  if (!installed) {
    // An export (and the flush at shutdown) gives up after 5 s: a stopping service must not wait on a gone collector.
    // Loaded only when tracing is on: the exporter and its transport are ~120 modules and ~16 MB a service without tracing does not need.
    const { OTLPTraceExporter } = createRequire(import.meta.url)(
      '@opentelemetry/exporter-trace-otlp-http',
    ) as typeof OtlpHttp;
    const exporter = new OTLPTraceExporter({
      url: config.tracesUrl,
      headers: { ...config.headers },
      timeoutMillis: 5000,
    });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName ?? service }),
      sampler: samplerOf(config),
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: 8192,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1000,
          exportTimeoutMillis: 5000,
        }),
      ],
    });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    installed = { provider, holders: 0 };
  }
  const held = installed;
  held.holders += 1;
  let done: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown() {
      done ??= (async () => {
        held.holders -= 1;
        if (held.holders > 0) return held.provider.forceFlush();
        if (installed === held) installed = undefined;
        await held.provider.shutdown();
        trace.disable();
        context.disable();
        propagation.disable();
      })();
      return done;
    },
  };
}

const tracers = new Map<string, Tracer>();

/** The tracer of a service (its name is the spans' instrumentation scope). */
function tracerOf(service: string): Tracer {
  let tracer = tracers.get(service);
  if (!tracer) tracers.set(service, (tracer = trace.getTracer(service)));
  return tracer;
}

/** Attribute naming the service that made a span (the resource names only the process's first one). */
export const SERVICE_ATTRIBUTE = 'commerce.service';

/**
 * Runs `fn` in a client or internal span of `service` that ends when `fn`
 * settles, marked as an error if it throws. With tracing off, just `fn()`.
 */
export function withSpan<T>(
  service: string,
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
  kind: SpanKind = SpanKind.CLIENT,
): Promise<T> {
  if (!installed) return fn(undefined);
  return tracerOf(service).startActiveSpan(
    name,
    { kind, attributes: { ...attributes, [SERVICE_ATTRIBUTE]: service } },
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Adds the active span's `traceparent` (and `tracestate`) to outgoing request headers; nothing while tracing is off. */
export function injectTraceContext(headers: Record<string, string>): void {
  if (installed) propagation.inject(context.active(), headers);
}

/** The trace id of the active span, for log lines; undefined while tracing is off or outside a span. */
export function activeTraceId(): string | undefined {
  if (!installed) return undefined;
  return trace.getSpan(context.active())?.spanContext().traceId;
}

/**
 * Runs each request in the trace context its `traceparent` header carries,
 * without a span of its own, so the spans made while serving it join the
 * caller's trace. Returns `handler` itself while tracing is off.
 */
export function continueIncomingTraces(handler: RequestListener): RequestListener {
  if (!installed) return handler;
  return (req, res) => context.with(propagation.extract(ROOT_CONTEXT, req.headers), () => handler(req, res));
}

/** A request's server span, ended by {@link endServerSpan}. */
export type ServerSpan = Span;

/**
 * Runs `fn` in a server span of `service` named `name`, child of the
 * caller's span when the request has a `traceparent`; the caller ends it
 * with {@link endServerSpan}. Decided per request: while tracing is off,
 * just `fn(undefined)` (one boolean test, no span, no context).
 */
export function inServerSpan(
  service: string,
  req: IncomingMessage,
  name: string,
  attributes: Attributes,
  fn: (span: ServerSpan | undefined) => void,
): void {
  if (!installed) return fn(undefined);
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracerOf(service).startSpan(
    name,
    { kind: SpanKind.SERVER, attributes: { ...attributes, [SERVICE_ATTRIBUTE]: service } },
    parent,
  );
  context.with(trace.setSpan(parent, span), () => fn(span));
}

/**
 * Ends a request's server span once its response closed: the status code and
 * `attributes` are set, and the span is an error if the response was cut
 * before it was complete or its status is a 5xx.
 */
export function endServerSpan(span: ServerSpan | undefined, res: ServerResponse, attributes: Attributes = {}): void {
  if (!span) return;
  span.setAttributes({ ...attributes, 'http.response.status_code': res.statusCode });
  if (!res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'response not finished' });
  else if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * Serves each request in a server span of `service`, child of the caller's
 * span when the request has a `traceparent`. The span is named after the
 * method and `route(req)`, and ends when the response is finished or aborted.
 * Returns `handler` itself while tracing is off.
 */
export function traceRequests(
  service: string,
  handler: RequestListener,
  route: (req: IncomingMessage) => string,
): RequestListener {
  if (!installed) return handler;
  return (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = route(req);
    inServerSpan(service, req, `${method} ${path}`, { 'http.request.method': method, 'http.route': path }, (span) => {
      res.once('close', () => endServerSpan(span, res));
      handler(req, res);
    });
  };
}
