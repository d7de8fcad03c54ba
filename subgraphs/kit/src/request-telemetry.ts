import type { IncomingMessage, RequestListener } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, REQUEST_ID_HEADER, activeTraceId, traceRequests, type Logger } from '@commerce/common';

/** Options of {@link createRequestTelemetry}. */
export interface RequestTelemetryOptions {
  /** The subgraph's name: the spans' service and the log lines' `service`. */
  service: string;
  /** Where `http_request_duration_seconds` is registered. */
  registry: Registry;
  logger: Logger;
  /** The GraphQL path, whose requests are logged at `info`. Default `/graphql`. */
  graphqlPath?: string;
  /** Paths reported as themselves in the `route` label; any other is `other`. Default the GraphQL path, `/health`, `/ready`, `/metrics`. */
  routes?: readonly string[];
}

/** What one request's log line says besides its route, status and duration. */
interface RequestRecord {
  operationName?: string;
}

/** Where a GraphQL context holds its request's record. */
const RECORD = Symbol('request telemetry');
type Holder = { [RECORD]?: RequestRecord };

/** The gateway's request id is reused in log lines only if it is short and plain. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A subgraph's per-request telemetry: a server span (child of the caller's
 * `traceparent` when tracing is on), `http_request_duration_seconds`, and
 * one JSON log line per GraphQL request at `info` (request id, trace id,
 * operation name, status, duration; never headers or variables).
 */
export interface RequestTelemetry {
  /** Wraps the service's request listener. */
  wrap(handler: RequestListener): RequestListener;
  /** Ties a request's GraphQL context to its request, so the plugin can name the operation. */
  attach(req: IncomingMessage, context: object): void;
  /** Notes each request's operation name for its log line. */
  plugin<T extends BaseContext>(): ApolloServerPlugin<T>;
}

export function createRequestTelemetry({
  service,
  registry,
  logger,
  graphqlPath = '/graphql',
  routes = [graphqlPath, '/health', '/ready', '/metrics'],
}: RequestTelemetryOptions): RequestTelemetry {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [...LATENCY_BUCKETS],
    registers: [registry],
  });
  const known = new Set(routes);
  const routeOf = (req: IncomingMessage) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return known.has(path) ? path : 'other';
  };
  const byRequest = new WeakMap<IncomingMessage, RequestRecord>();

  function measured(handler: RequestListener): RequestListener {
    return (req, res) => {
      const started = performance.now();
      const record: RequestRecord = {};
      byRequest.set(req, record);
      const traceId = activeTraceId();
      res.once('close', () => {
        const seconds = (performance.now() - started) / 1000;
        const route = routeOf(req);
        const method = req.method ?? 'GET';
        // A response cut before it was complete (client gone, drain timeout) has no status.
        const status = res.writableFinished ? String(res.statusCode) : 'aborted';
        duration.observe({ route, method, status }, seconds);
        const header = req.headers[REQUEST_ID_HEADER];
        const requestId = typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : undefined;
        const line = {
          requestId,
          traceId,
          operationName: record.operationName,
          method,
          route,
          status,
          durationMs: Math.round(seconds * 10_000) / 10,
        };
        if (route === graphqlPath) logger.info(line, 'request');
        else logger.debug(line, 'request');
      });
      handler(req, res);
    };
  }

  return {
    wrap: (handler) => traceRequests(service, measured(handler), routeOf),
    attach(req, context) {
      const record = byRequest.get(req);
      // A property, not a WeakMap entry: Apollo Server hands plugins a shallow copy of the context.
      if (record) (context as Holder)[RECORD] = record;
    },
    plugin<T extends BaseContext>(): ApolloServerPlugin<T> {
      return {
        async requestDidStart() {
          return {
            async didResolveOperation({ contextValue, operationName }) {
              const record = (contextValue as Holder)[RECORD];
              if (record && operationName) record.operationName = operationName;
            },
          };
        },
      };
    },
  };
}
