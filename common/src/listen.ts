import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
}

/** A listening HTTP server with an idempotent, draining `close()`. */
export interface Listening {
  server: http.Server;
  port: number;
  url: string;
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

/** Listens on `port` (0 = a free port) on `host`; see {@link Listening.close} for the shutdown sequence. */
export async function listen(
  handler: http.RequestListener,
  { port = 0, host = '127.0.0.1', drainMs = 15_000, delayMs = 0, path = '' }: ListenOptions = {},
): Promise<Listening> {
  let draining = false;
  let closed = false;
  const inFlight = new Set<http.ServerResponse>();
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
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
    return handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
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
  }

  return {
    server,
    port: actual,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}${path}`,
    get draining() {
      return draining;
    },
    close() {
      closing ??= drain();
      return closing;
    },
  };
}
