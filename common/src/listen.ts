import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening HTTP server with an idempotent, draining `close()`. */
export interface Listening {
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on `port` (0 = a free port) on `host`. `close()` stops accepting,
 * lets in-flight requests finish for up to `drainMs`, then cuts the rest.
 */
export async function listen(
  handler: http.RequestListener,
  { port = 0, host = '127.0.0.1', drainMs = 5000, path = '' }: { port?: number; host?: string; drainMs?: number; path?: string } = {},
): Promise<Listening> {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port: actual,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}${path}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), drainMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
