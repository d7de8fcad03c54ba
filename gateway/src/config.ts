import { resolve } from 'node:path';
import { ConfigError, boolVar, intVar, redactUrl, stringVar } from '@commerce/common';

type Env = Record<string, string | undefined>;

/** Where the supergraph SDL comes from. */
export type SupergraphSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string; readonly pollIntervalMs: number };

/** The gateway's configuration: parsed once, validated, frozen. */
export interface GatewayConfig {
  /** `PORT`: port to listen on; 0 picks a free one. Default 4000. */
  readonly port: number;
  /** `HOST`: interface to listen on. Default `127.0.0.1`. */
  readonly host: string;
  /**
   * `SUPERGRAPH_PATH`: a file (resolved from the working directory, watched
   * and hot-reloaded) or an http(s) URL (polled every
   * `SUPERGRAPH_POLL_INTERVAL_MS`, default 10000). Default `schema/supergraph.graphql`.
   */
  readonly supergraph: SupergraphSource;
  /** `SUBGRAPH_URLS`: `name=url,name=url`, overrides the supergraph's routing URLs. Default none. */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  /** `SUBGRAPH_TIMEOUT_MS`: budget of one subgraph fetch, body included. Default 10000. */
  readonly subgraphTimeoutMs: number;
  /** `SUBGRAPH_MAX_CONNECTIONS`: keep-alive connections per subgraph origin. Default 64. */
  readonly subgraphMaxConnections: number;
  /** `NODE_ENV=production`: masked errors, no stack traces, introspection off by default. */
  readonly production: boolean;
  /** `GATEWAY_INTROSPECTION`: default true outside production, false in production. */
  readonly introspection: boolean;
  /** `BODY_LIMIT_BYTES`: largest accepted request body. Default 1 MiB. */
  readonly bodyLimitBytes: number;
}

export const GATEWAY_DEFAULTS = Object.freeze({
  port: 4000,
  host: '127.0.0.1',
  supergraphPath: 'schema/supergraph.graphql',
  supergraphPollIntervalMs: 10_000,
  subgraphTimeoutMs: 10_000,
  subgraphMaxConnections: 64,
  bodyLimitBytes: 1024 * 1024,
});

const SUBGRAPH_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must contain http(s) URLs, got ${JSON.stringify(redactUrl(raw))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must contain http(s) URLs, got ${JSON.stringify(redactUrl(raw))}`);
  }
  return raw;
}

/** Parses `name=url,name=url` into a frozen map. */
export function parseSubgraphUrls(raw: string | undefined): Readonly<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const entry of (raw ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    const name = at > 0 ? trimmed.slice(0, at).trim() : '';
    if (!SUBGRAPH_NAME.test(name)) {
      throw new ConfigError(`SUBGRAPH_URLS entries must look like name=url, got ${JSON.stringify(redactUrl(trimmed))}`);
    }
    if (Object.hasOwn(urls, name)) throw new ConfigError(`SUBGRAPH_URLS names ${JSON.stringify(name)} twice`);
    urls[name] = httpUrl('SUBGRAPH_URLS', trimmed.slice(at + 1).trim());
  }
  return Object.freeze(urls);
}

function supergraphSource(env: Env): SupergraphSource {
  const raw = stringVar(env, 'SUPERGRAPH_PATH', GATEWAY_DEFAULTS.supergraphPath);
  if (/^https?:\/\//i.test(raw)) {
    const pollIntervalMs = intVar(env, 'SUPERGRAPH_POLL_INTERVAL_MS', GATEWAY_DEFAULTS.supergraphPollIntervalMs, { min: 100 });
    return Object.freeze({ kind: 'url', url: httpUrl('SUPERGRAPH_PATH', raw), pollIntervalMs });
  }
  return Object.freeze({ kind: 'file', path: resolve(raw) });
}

/** Reads the gateway configuration from `env` (usually `process.env`); throws ConfigError on a bad value. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const production = env.NODE_ENV === 'production';
  const host = stringVar(env, 'HOST', GATEWAY_DEFAULTS.host);
  if (/\s/.test(host)) throw new ConfigError(`HOST must be a host name or address, got ${JSON.stringify(host)}`);
  return Object.freeze({
    port: intVar(env, 'PORT', GATEWAY_DEFAULTS.port, { min: 0, max: 65_535 }),
    host,
    supergraph: supergraphSource(env),
    subgraphUrls: parseSubgraphUrls(env.SUBGRAPH_URLS),
    subgraphTimeoutMs: intVar(env, 'SUBGRAPH_TIMEOUT_MS', GATEWAY_DEFAULTS.subgraphTimeoutMs, { min: 1, max: 600_000 }),
    subgraphMaxConnections: intVar(env, 'SUBGRAPH_MAX_CONNECTIONS', GATEWAY_DEFAULTS.subgraphMaxConnections, { min: 1, max: 10_000 }),
    production,
    introspection: boolVar(env, 'GATEWAY_INTROSPECTION', !production),
    bodyLimitBytes: intVar(env, 'BODY_LIMIT_BYTES', GATEWAY_DEFAULTS.bodyLimitBytes, { min: 1, max: 1024 * 1024 * 1024 }),
  });
}
