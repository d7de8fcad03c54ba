import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, endServerSpan, inServerSpan, type Logger, type ServerSpan } from '@commerce/common';
import type { GatewayContext, RequestOutcome } from '../../context';
import { clientIdentity, requestFacts } from '../../principal';
import { CACHE_STATUS_HEADER } from '../response-cache/plugin';
import type { GatewayFeature, OperationFacts } from '../feature';
import { createOperationLabels, type OperationLabelsOptions } from './operation-label';

/** Options of {@link useTelemetry}. */
export interface TelemetryOptions {
  /** Where `gateway_request_duration_seconds` is registered (the gateway's registry). */
  registry: Registry;
  /** Writes the one `info` line per request. */
  logger: Logger;
  /** Bounds the histogram's `operation` label (manifest names, capacity for others). Default: 100 names. */
  operationLabels?: OperationLabelsOptions;
  /** The GraphQL path; only its requests are spanned, measured and logged. Default `/graphql`. */
  path?: string;
}

/**
 * How a request ended, the `outcome` label: `cache_hit` (answered from the
 * response cache), `ok`, `error` (errors in the response, a 5xx, or a
 * response cut before it was complete) or `refused` (any 4xx: malformed,
 * limits, cost, rate limits, authentication).
 */
export type RequestOutcomeLabel = 'ok' | 'error' | 'refused' | 'cache_hit';

/** What one request's span, histogram observation and log line say. */
interface RequestRecord {
  readonly started: number;
  span: ServerSpan | undefined;
  context?: GatewayContext;
  operationName?: string | null;
  operationType?: string;
  /** The response carried GraphQL errors. */
  errors: boolean;
  /** The facts of the cache entry that answered it. */
  hit?: OperationFacts;
}

const pathOf = (req: IncomingMessage): string => {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
};

function outcomeOf(record: RequestRecord, res: ServerResponse, cache: string | undefined): RequestOutcomeLabel {
  if (!res.writableFinished || res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'refused';
  if (cache === 'HIT') return 'cache_hit';
  return record.errors ? 'error' : 'ok';
}

/**
 * Gateway request telemetry, first in the pipeline so that it sees every
 * GraphQL request, cache hits and refusals included:
 * - a server span per request (child of the client's `traceparent`), the
 *   parent of Apollo's `gateway.request` and of every fetch, with the
 *   operation's name and type, the client's kind, cost, cache status,
 *   outcome and HTTP status; none while tracing is off;
 * - `gateway_request_duration_seconds{operation,outcome}`;
 * - one JSON line per request at `info`: request id, trace id, operation,
 *   client identity (user id, API key hash or IP; never a token or key),
 *   cost, cache status, outcome, status, duration.
 */
export function useTelemetry({
  registry,
  logger,
  operationLabels,
  path = '/graphql',
}: TelemetryOptions): GatewayFeature {
  const duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time to answer a GraphQL request at the gateway, by operation name and outcome (cache_hit, ok, error, refused)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [...LATENCY_BUCKETS],
    registers: [registry],
  });
  const children = new Map<string, { observe(seconds: number): void }>();
  const observe = (operation: string, outcome: string, seconds: number) => {
    const key = `${operation} ${outcome}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = duration.labels({ operation, outcome })));
    child.observe(seconds);
  };
  const labels = createOperationLabels(operationLabels);
  const byRequest = new WeakMap<IncomingMessage, RequestRecord>();
  // Apollo Server hands plugins a shallow copy of the context; its `outcome` object is shared by reference.
  const byOutcome = new WeakMap<RequestOutcome, RequestRecord>();

  function finish(req: IncomingMessage, res: ServerResponse, record: RequestRecord): void {
    const seconds = (performance.now() - record.started) / 1000;
    const header = res.getHeader(CACHE_STATUS_HEADER);
    const cache = typeof header === 'string' ? header : undefined;
    const outcome = outcomeOf(record, res, cache);
    const cost = record.context?.outcome.cost ?? record.hit?.cost;
    const principal = record.context?.principal;
    // A request refused before it had a context (a bad token: 401) is still logged, by its address.
    const facts = principal ?? requestFacts(req);
    const client = principal ? clientIdentity(principal) : `ip:${facts.clientIp ?? 'unknown'}`;
    observe(labels.of(record.operationName), outcome, seconds);
    endServerSpan(record.span, res, {
      ...(record.operationName ? { 'graphql.operation.name': record.operationName } : {}),
      ...(record.operationType ? { 'graphql.operation.type': record.operationType } : {}),
      'commerce.client.kind': client.slice(0, client.indexOf(':')),
      ...(cost ? { 'commerce.cost.estimated': cost.estimated, 'commerce.cost.actual': cost.actual } : {}),
      ...(cache ? { 'commerce.cache': cache } : {}),
      'commerce.outcome': outcome,
    });
    logger.info(
      {
        requestId: facts.requestId,
        traceId: record.span?.spanContext().traceId,
        operationName: record.operationName ?? undefined,
        operationType: record.operationType,
        client,
        cost,
        cache,
        outcome,
        method: req.method,
        status: res.writableFinished ? res.statusCode : 'aborted',
        durationMs: Math.round(seconds * 10_000) / 10,
      },
      'request',
    );
  }

  return {
    name: 'telemetry',
    onCacheHit: true,
    duringWarmup: false,
    wrap: (handler) => (req, res) => {
      if (pathOf(req) !== path) return handler(req, res);
      const method = req.method ?? 'GET';
      const attributes = { 'http.request.method': method, 'http.route': path };
      inServerSpan('gateway', req, `${method} ${path}`, attributes, (span) => {
        const record: RequestRecord = { started: performance.now(), span, errors: false };
        byRequest.set(req, record);
        res.once('close', () => finish(req, res, record));
        handler(req, res);
      });
    },
    onContext(req, context) {
      const record = byRequest.get(req);
      if (!record) return;
      record.context = context;
      byOutcome.set(context.outcome, record);
    },
    operation: {
      async requestDidStart({ contextValue }) {
        const record = byOutcome.get(contextValue.outcome);
        if (!record) return;
        return {
          async didResolveOperation({ operationName, operation }) {
            record.operationName = operationName;
            record.operationType = operation?.operation;
          },
          async willSendResponse({ response, errors }) {
            const body = response.body;
            record.errors =
              (errors?.length ?? 0) > 0 || (body.kind === 'single' && (body.singleResult.errors?.length ?? 0) > 0);
          },
        };
      },
    },
    answeredHit(hit) {
      const record = byOutcome.get(hit.context.outcome);
      if (!record) return;
      record.hit = hit.facts;
      record.operationName = hit.facts.operationName;
      record.operationType = hit.facts.operationType;
    },
  };
}
