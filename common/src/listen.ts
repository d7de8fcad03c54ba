import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, intVar, optionalVar, type Env } from './config';
import { errorBody } from './errors';
import type { ShutdownConfig } from './lifecycle';

/** How every service's HTTP listener treats slow clients and where it serves `/metrics`; parsed once at start. */
export interface HttpServerConfig {
  /**
   * `HTTP_HEADERS_TIMEOUT_MS`: longest time a client may take to send a
   * request's headers; past it the connection is answered 408 and closed. Default 10000.
   */
  readonly headersTimeoutMs: number;
  /**
   * `HTTP_REQUEST_TIMEOUT_MS`: longest time a client may take to send a whole
   * request, body included (a body trickled a byte at a time is cut here). Default 30000.
   */
  readonly requestTimeoutMs: number;
  /** `METRICS_PORT`: serve `/metrics` on this port only (not on the service port). Default: on the service port. */
  readonly metricsPort: number | undefined;
  /** `METRICS_TOKEN`: `/metrics` answers only `Authorization: Bearer <token>` (16+ characters). Default: no token. */
  readonly metricsToken: string | undefined;
}

export const HTTP_SERVER_DEFAULTS: HttpServerConfig = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  metricsPort: undefined,
  metricsToken: undefined,
});

/** Reads `HTTP_HEADERS_TIMEOUT_MS`, `HTTP_REQUEST_TIMEOUT_MS`, `METRICS_PORT` and `METRICS_TOKEN`. */
export function loadHttpServerConfig(env: Env): HttpServerConfig {
  const requestTimeoutMs = intVar(env, 'HTTP_REQUEST_TIMEOUT_MS', HTTP_SERVER_DEFAULTS.requestTimeoutMs, {
    min: 100,
    max: 3_600_000,
  });
  const headersTimeoutMs = intVar(env, 'HTTP_HEADERS_TIMEOUT_MS', HTTP_SERVER_DEFAULTS.headersTimeoutMs, {
    min: 100,
    max: 3_600_000,
  });
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError(
      `HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be above HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  const metricsToken = optionalVar(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16)
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters');
  return Object.freeze({
    headersTimeoutMs,
    requestTimeoutMs,
    metricsPort:
      optionalVar(env, 'METRICS_PORT') === undefined
        ? undefined
        : intVar(env, 'METRICS_PORT', 0, { min: 1, max: 65_535 }),
    metricsToken,
  });
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Appended to the URL reported in {@link Listening.url}, e.g. `/graphql`. Default none. */
  path?: string;
  /**
   * How long `close()` lets requests in flight finish before it cuts their
   * connections (SHUTDOWN_TIMEOUT_MS). Default 15000: above the 10 s subgraph
   * timeout, so a gateway's request in flight can still get its subgraphs' answers.
   */
  drainMs?: number;
  /**
   * How long `close()` keeps accepting connections after `/ready` turned 503,
   * so that a load balancer polling readiness stops sending first
   * (SHUTDOWN_DELAY_MS). Default 0.
   */
  delayMs?: number;
  /** Slow-client timeouts and where `/metrics` is served (`HTTP_*`, `METRICS_*`). Default {@link HTTP_SERVER_DEFAULTS}. */
  http?: HttpServerConfig;
}

/** What a service's configuration says about listening: its address, its shutdown and its HTTP limits. */
export interface ServiceListenConfig {
  readonly port: number;
  readonly host: string;
  readonly shutdown: ShutdownConfig;
  readonly http: HttpServerConfig;
}

/** The {@link ListenOptions} of a service (gateway or subgraph) serving GraphQL at `/graphql`. */
export function serviceListenOptions({ port, host, shutdown, http }: ServiceListenConfig): ListenOptions {
  return { port, host, path: '/graphql', drainMs: shutdown.timeoutMs, delayMs: shutdown.delayMs, http };
}

/** A listening HTTP server with an idempotent, draining `close()`. */
export interface Listening {
  server: http.Server;
  port: number;
  url: string;
  /** The metrics listener's `/metrics` URL when `METRICS_PORT` is set. */
  metricsUrl: string | undefined;
  /** True from the first `close()` on: `/ready` answers 503 and every response closes its connection. */
  readonly draining: boolean;
  /**
   * Drains and stops the server: `/ready` turns 503 at once and every response
   * sent from now on carries `Connection: close`; after `delayMs` no new
   * connection is accepted and idle kept-alive connections are closed;
   * requests in flight finish for up to `drainMs`, then the remaining
   * connections are cut.
   */
  close(): Promise<void>;
}

/** Requests received while their server drains (what `/ready` consults through {@link isDraining}). */
const drainingRequests = new WeakSet<http.IncomingMessage>();

/** True when `req` arrived on a server that is shutting down: `/ready` must answer 503. */
export function isDraining(req: http.IncomingMessage): boolean {
  return drainingRequests.has(req);
}

const METRICS_PATH = '/metrics';

const pathOf = (req: http.IncomingMessage): string => (req.url ?? '/').split('?', 1)[0]!;

/** True when the request carries `Authorization: Bearer <token>`, compared in constant time. */
function bearerMatches(req: http.IncomingMessage, token: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Where `/metrics` is answered: on the metrics listener only when
 * `METRICS_PORT` is set (404 on the service port), and only with the bearer
 * token when `METRICS_TOKEN` is set (401 otherwise). Other requests pass.
 */
function guardMetrics(
  handler: http.RequestListener,
  { metricsPort, metricsToken }: HttpServerConfig,
  onMetricsListener: boolean,
): http.RequestListener {
  if (metricsPort === undefined && metricsToken === undefined) return handler;
  return (req, res) => {
    const isMetrics = pathOf(req) === METRICS_PATH;
    // The metrics listener serves nothing else; the service port no /metrics once it has its own port.
    const misplaced = onMetricsListener ? !isMetrics : isMetrics && metricsPort !== undefined;
    if (misplaced) {
      const body = errorBody('NOT_FOUND', `No route for ${pathOf(req)}`);
      res.writeHead(404, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    if (isMetrics && metricsToken !== undefined && !bearerMatches(req, metricsToken)) {
      const body = errorBody('UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
      res.writeHead(401, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'www-authenticate': 'Bearer',
      });
      res.end(body);
      return;
    }
    return handler(req, res);
  };
}

/** node:http options that cut slow clients: the timeouts are checked every second rather than Node's 30 s. */
function serverOptions({ headersTimeoutMs, requestTimeoutMs }: HttpServerConfig): http.ServerOptions {
  return {
    keepAliveTimeout: 65_000,
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
  };
}

function listenOn(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const urlOf = (host: string, port: number, path: string) =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;

/** Listens on `port` (0 = a free port) on `host`; see {@link Listening.close} for the shutdown sequence. */
export async function listen(
  handler: http.RequestListener,
  {
    port = 0,
    host = '127.0.0.1',
    drainMs = 15_000,
    delayMs = 0,
    path = '',
    http: httpConfig = HTTP_SERVER_DEFAULTS,
  }: ListenOptions = {},
): Promise<Listening> {
  let draining = false;
  let closed = false;
  const inFlight = new Set<http.ServerResponse>();
  const guarded = guardMetrics(handler, httpConfig, false);
  const server = http.createServer(serverOptions(httpConfig), (req, res) => {
    if (draining) {
      drainingRequests.add(req);
      res.setHeader('connection', 'close');
    }
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // Once the listener is closed, a kept-alive connection whose last response just went out must not wait for another request.
      if (closed) setImmediate(() => server.closeIdleConnections());
    });
    return guarded(req, res);
  });
  const actual = await listenOn(server, port, host);
  let metricsServer: http.Server | undefined;
  if (httpConfig.metricsPort !== undefined) {
    metricsServer = http.createServer(serverOptions(httpConfig), guardMetrics(handler, httpConfig, true));
    try {
      await listenOn(metricsServer, httpConfig.metricsPort, host);
    } catch (error) {
      await new Promise((resolve) => server.close(resolve));
      throw error;
    }
  }
  let closing: Promise<void> | undefined;

  async function drain(): Promise<void> {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), drainMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    // Metrics stay scrapeable until the service itself stopped.
    if (metricsServer) {
      const stopping = new Promise((resolve) => metricsServer!.close(resolve));
      metricsServer.closeAllConnections();
      await stopping;
    }
  }

  return {
    server,
    port: actual,
    url: urlOf(host, actual, path),
    metricsUrl: metricsServer && urlOf(host, (metricsServer.address() as AddressInfo).port, METRICS_PATH),
    get draining() {
      return draining;
    },
    close() {
      closing ??= drain();
      return closing;
    },
  };
}
