import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayFeature } from '../feature';
import type { CorsConfig } from './config';

export { loadCorsConfig, type CorsConfig } from './config';

/** Methods a listed origin may use. */
const METHODS = 'GET, POST, OPTIONS';
/** Request headers a listed origin may send: content type, credentials, tracing, and the gateway's own. */
const ALLOWED_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-request-id',
  'x-api-key',
  'x-session-id',
  'traceparent',
  'tracestate',
].join(', ');
/** Response headers a listed origin's script may read. */
const EXPOSED_HEADERS = ['x-request-id', 'x-cache', 'ratelimit', 'ratelimit-policy', 'retry-after', 'etag', 'age'].join(
  ', ',
);

function addVary(res: ServerResponse, ...names: string[]): void {
  const current = String(res.getHeader('vary') ?? '');
  res.setHeader('vary', [current, ...names].filter((name) => name !== '').join(', '));
}

/**
 * A CORS allowlist (`CORS_ORIGINS`): a request from a listed origin gets
 * `Access-Control-Allow-Origin` with that origin and credentials allowed; its
 * preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered 204
 * with the allowed methods and headers and `Access-Control-Max-Age`. Any
 * other origin gets no CORS header at all (its browser then withholds the
 * answer), and a preflight from it a bare 204. Every response varies on
 * `Origin`. Off (no header, no preflight answer) when no origin is listed.
 */
export function useCors(config: CorsConfig): GatewayFeature {
  const base = { name: 'cors', onCacheHit: false, duringWarmup: false };
  if (config.origins.length === 0) return base;
  const allowed = new Set(config.origins);
  return {
    ...base,
    wrap: (handler) => (req: IncomingMessage, res: ServerResponse) => {
      const origin = req.headers.origin;
      const listed = origin !== undefined && allowed.has(origin);
      addVary(res, 'Origin');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        addVary(res, 'Access-Control-Request-Method', 'Access-Control-Request-Headers');
        if (listed) {
          res.setHeader('access-control-allow-origin', origin);
          res.setHeader('access-control-allow-credentials', 'true');
          res.setHeader('access-control-allow-methods', METHODS);
          res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
          res.setHeader('access-control-max-age', String(config.maxAgeSeconds));
        }
        res.writeHead(204, { 'content-length': '0' });
        res.end();
        return;
      }
      if (listed) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('access-control-allow-credentials', 'true');
        res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      }
      return handler(req, res);
    },
  };
}
