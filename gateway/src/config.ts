import { resolve } from 'node:path';
import {
  ConfigError,
  boolVar,
  intVar,
  loadHttpServerConfig,
  loadShutdownConfig,
  optionalVar,
  redactUrl,
  stringVar,
  type HttpServerConfig,
  type ShutdownConfig,
  type Env,
} from '@commerce/common';
import { loadCostConfig, type CostConfig } from './cost/config';
import { loadCorsConfig, type CorsConfig } from './features/cors/config';
import { loadAuthConfig, type AuthConfig } from './features/identity/config';
import { loadFieldRateLimits, loadOperationLimits, type FieldRateLimit, type OperationLimits } from './limits/config';
import { loadSubgraphTrafficConfig, type SubgraphTrafficConfig } from './traffic/config';
import { loadTelemetryConfig, type TelemetryConfig } from '@commerce/common';

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
  /** `GATEWAY_WORKERS`: gateway processes sharing the port (node:cluster). Default 1; in Kubernetes keep 1 and scale pods. */
  readonly workers: number;
  /**
   * `SUPERGRAPH_PATH`: a file (resolved from the working directory, watched
   * and hot-reloaded) or an http(s) URL (polled every
   * `SUPERGRAPH_POLL_INTERVAL_MS`, default 10000). Default `schema/supergraph.graphql`.
   */
  readonly supergraph: SupergraphSource;
  /** `SUBGRAPH_URLS`: `name=url,name=url`, overrides the supergraph's routing URLs. Default none. */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  /** `SUBGRAPH_TIMEOUT_MS`: budget of one subgraph fetch, body included. Default 10000 (per subgraph: see `subgraphTraffic`). */
  readonly subgraphTimeoutMs: number;
  /** Timeouts, request deadline, retries, circuit breakers and concurrency limits per subgraph (traffic/config.ts). */
  readonly subgraphTraffic: SubgraphTrafficConfig;
  /** `SUBGRAPH_MAX_CONNECTIONS`: keep-alive connections per subgraph origin. Default 256. */
  readonly subgraphMaxConnections: number;
  /** `SUBGRAPH_DEDUPLICATION`: identical subgraph queries in flight at once share one call, across client requests. Default false. */
  readonly subgraphDeduplication: boolean;
  /** `NODE_ENV=production`: masked errors, no stack traces, introspection off by default. */
  readonly production: boolean;
  /** `GATEWAY_INTROSPECTION`: default true outside production, false in production. */
  readonly introspection: boolean;
  /** `GATEWAY_SANDBOX`: serve GraphiQL to browsers at the GraphQL path. Default true outside production, false in production. */
  readonly sandbox: boolean;
  /**
   * `GATEWAY_DEBUG_EXTENSIONS`: honour the `x-debug` request header (query plan,
   * cost and cache status in `extensions.debug`). Default true outside
   * production; cannot be turned on in production.
   */
  readonly debugExtensions: boolean;
  /** `BODY_LIMIT_BYTES`: largest accepted request body. Default 1 MiB. */
  readonly bodyLimitBytes: number;
  /** `REDIS_URL`: Redis (or `redis+cluster://h:p,h:p`) shared by gateway instances; in-process stores when unset. */
  readonly redisUrl: string | undefined;
  /** `REDIS_KEY_PREFIX`: prefix of every key the gateway writes. Default `commerce:`. */
  readonly redisKeyPrefix: string;
  /** The response cache (see README "Response cache"). */
  readonly responseCache: ResponseCacheConfig;
  /** APQ and trusted documents (see README "Persisted queries"). */
  readonly persisted: PersistedConfig;
  /** `GATEWAY_FIELD_SUGGESTIONS`: "Did you mean…" in validation errors. Default true outside production, false in production. */
  readonly fieldSuggestions: boolean;
  /** Query-cost analysis and per-client budgets (`COST_*`, see cost/config.ts); `API_KEYS` budgets are overrides. */
  readonly cost: CostConfig;
  /** Client tokens, API keys and the identity signed for subgraphs (`JWT_*`, `API_KEYS`, `INTERNAL_IDENTITY_*`). */
  readonly auth: AuthConfig;
  /** Operation shape limits (`MAX_QUERY_DEPTH`, `MAX_ALIASES`, `MAX_ROOT_FIELDS`, `MAX_DIRECTIVES`, `MAX_TOKENS`). */
  readonly operationLimits: OperationLimits;
  /** `FIELD_RATE_LIMITS`: calls per window of particular root fields. */
  readonly fieldRateLimits: readonly FieldRateLimit[];
  /** `SHUTDOWN_TIMEOUT_MS`, `SHUTDOWN_DELAY_MS`: how a stop signal drains (see README "Failure behaviour: processes and shutdown"). */
  readonly shutdown: ShutdownConfig;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` and friends: where spans go (tracing is off without an endpoint). */
  readonly telemetry: TelemetryConfig;
  /** `HTTP_HEADERS_TIMEOUT_MS`, `HTTP_REQUEST_TIMEOUT_MS`, `METRICS_PORT`, `METRICS_TOKEN` (common/src/listen.ts). */
  readonly http: HttpServerConfig;
  /** `CORS_ORIGINS`, `CORS_MAX_AGE_SECONDS`: the browser origins allowed to call the gateway (off when none). */
  readonly cors: CorsConfig;
  /**
   * `GATEWAY_REQUEST_TELEMETRY`: the per-request span, `gateway_request_duration_seconds`
   * and the request log line (features/telemetry). Default true; false leaves the feature out.
   */
  readonly requestTelemetry: boolean;
  /**
   * `GATEWAY_EXECUTOR`: what executes query plans. `compiled` (default): our compiled executor
   * (gateway/src/executor); `apollo`: @apollo/gateway's own; `verify`: the compiled one answers and
   * Apollo's runs again on the same subgraph responses, every difference logged and counted.
   */
  readonly executor: ExecutorMode;
  /** `GATEWAY_ADMISSION*`: admission control of operations (README "Admission control"); undefined when off. */
  readonly admission: AdmissionConfig | undefined;
}

export interface AdmissionConfig {
  /** `GATEWAY_ADMISSION_MIN_CONCURRENCY`: the limit never shrinks below this. Default 8. */
  readonly minConcurrency: number;
  /** `GATEWAY_ADMISSION_MAX_QUEUE`: operations that may wait; one more is answered 503. Default 1024. */
  readonly maxQueue: number;
}

function admissionConfig(env: Env): AdmissionConfig | undefined {
  if (!boolVar(env, 'GATEWAY_ADMISSION', true)) return undefined;
  return Object.freeze({
    minConcurrency: intVar(env, 'GATEWAY_ADMISSION_MIN_CONCURRENCY', 8, { min: 1, max: 100_000 }),
    maxQueue: intVar(env, 'GATEWAY_ADMISSION_MAX_QUEUE', 1024, { min: 0, max: 1_000_000 }),
  });
}

export const EXECUTOR_MODES = ['compiled', 'apollo', 'verify'] as const;
export type ExecutorMode = (typeof EXECUTOR_MODES)[number];

function executorMode(env: Env): ExecutorMode {
  const value = env.GATEWAY_EXECUTOR ?? 'compiled';
  if (!(EXECUTOR_MODES as readonly string[]).includes(value))
    throw new ConfigError(`GATEWAY_EXECUTOR must be one of ${EXECUTOR_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ExecutorMode;
}

export interface PersistedConfig {
  /** `PERSISTED_QUERIES`: Automatic Persisted Queries on or off. Default on. */
  readonly apq: boolean;
  /** `APQ_TTL_SECONDS`: how long a registered query is kept (Redis or in process). Default 86400. */
  readonly apqTtlSeconds: number;
  /** `TRUSTED_DOCUMENTS`: `off`, `allow` (log and count unknown operations) or `enforce` (manifest operations only). Default off. */
  readonly mode: 'off' | 'allow' | 'enforce';
  /** `TRUSTED_DOCUMENTS_PATH`: the Apollo persisted-query manifest, reloaded on change. Default `schema/persisted-queries.json`. */
  readonly manifestPath: string;
}

export interface ResponseCacheConfig {
  /** `RESPONSE_CACHE`: on or off. Default on. */
  readonly enabled: boolean;
  /** `RESPONSE_CACHE_MAX_TTL_SECONDS`: cap on any entry's lifetime, whatever the hints say. Default 300. */
  readonly maxTtlSeconds: number;
  /** `RESPONSE_CACHE_MAX_ENTRY_BYTES`: larger responses are not cached. Default 524288. */
  readonly maxEntryBytes: number;
  /** `RESPONSE_CACHE_MEMORY_BYTES`: size of the in-process store (without Redis). Default 64 MiB. */
  readonly memoryBytes: number;
  /** `RESPONSE_CACHE_HOT_PATH_BYTES`: in-memory hot path for exact repeats (0 = off). Default 64 MiB. */
  readonly hotPathBytes: number;
  /** `CACHE_PURGE_SECRET`: bearer token of `POST /admin/cache/purge`; the endpoint is off without it. */
  readonly purgeSecret: string | undefined;
  /**
   * `RESPONSE_CACHE_INVALIDATION_GRACE_MS`: for this long after an entity
   * changes, responses containing it are served but not stored, so a read
   * from a replica that has not replayed the change yet is never pinned in
   * the cache. Set it above your replicas' worst lag. Default 5000.
   */
  readonly invalidationGraceMs: number;
}

export const GATEWAY_DEFAULTS = Object.freeze({
  port: 4000,
  host: '127.0.0.1',
  supergraphPath: 'schema/supergraph.graphql',
  supergraphPollIntervalMs: 10_000,
  subgraphTimeoutMs: 10_000,
  subgraphMaxConnections: 256,
  bodyLimitBytes: 1024 * 1024,
  redisKeyPrefix: 'commerce:',
  responseCacheMaxTtlSeconds: 300,
  responseCacheMaxEntryBytes: 512 * 1024,
  responseCacheMemoryBytes: 64 * 1024 * 1024,
  responseCacheInvalidationGraceMs: 5000,
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
    const pollIntervalMs = intVar(env, 'SUPERGRAPH_POLL_INTERVAL_MS', GATEWAY_DEFAULTS.supergraphPollIntervalMs, {
      min: 100,
    });
    return Object.freeze({ kind: 'url', url: httpUrl('SUPERGRAPH_PATH', raw), pollIntervalMs });
  }
  return Object.freeze({ kind: 'file', path: resolve(raw) });
}

function redisUrl(env: Env): string | undefined {
  const raw = optionalVar(env, 'REDIS_URL');
  if (raw !== undefined && !/^(rediss?|redis\+cluster):\/\/./.test(raw)) {
    throw new ConfigError(
      `REDIS_URL must start with redis://, rediss:// or redis+cluster://, got ${JSON.stringify(redactUrl(raw))}`,
    );
  }
  return raw;
}

function responseCacheConfig(env: Env): ResponseCacheConfig {
  const purgeSecret = optionalVar(env, 'CACHE_PURGE_SECRET');
  if (purgeSecret !== undefined && purgeSecret.length < 16)
    throw new ConfigError('CACHE_PURGE_SECRET must be at least 16 characters');
  return Object.freeze({
    enabled: boolVar(env, 'RESPONSE_CACHE', true),
    maxTtlSeconds: intVar(env, 'RESPONSE_CACHE_MAX_TTL_SECONDS', GATEWAY_DEFAULTS.responseCacheMaxTtlSeconds, {
      min: 1,
      max: 86_400,
    }),
    maxEntryBytes: intVar(env, 'RESPONSE_CACHE_MAX_ENTRY_BYTES', GATEWAY_DEFAULTS.responseCacheMaxEntryBytes, {
      min: 1,
    }),
    memoryBytes: intVar(env, 'RESPONSE_CACHE_MEMORY_BYTES', GATEWAY_DEFAULTS.responseCacheMemoryBytes, { min: 1024 }),
    hotPathBytes: intVar(env, 'RESPONSE_CACHE_HOT_PATH_BYTES', GATEWAY_DEFAULTS.responseCacheMemoryBytes, { min: 0 }),
    purgeSecret,
    invalidationGraceMs: intVar(
      env,
      'RESPONSE_CACHE_INVALIDATION_GRACE_MS',
      GATEWAY_DEFAULTS.responseCacheInvalidationGraceMs,
      { min: 0, max: 600_000 },
    ),
  });
}

/** Query plans reveal the subgraph layout: a production gateway never sends them. */
function debugExtensions(env: Env, production: boolean): boolean {
  const enabled = boolVar(env, 'GATEWAY_DEBUG_EXTENSIONS', !production);
  if (enabled && production) throw new ConfigError('GATEWAY_DEBUG_EXTENSIONS cannot be true when NODE_ENV=production');
  return enabled;
}

function persistedConfig(env: Env): PersistedConfig {
  const mode = stringVar(env, 'TRUSTED_DOCUMENTS', 'off');
  if (mode !== 'off' && mode !== 'allow' && mode !== 'enforce')
    throw new ConfigError(`TRUSTED_DOCUMENTS must be off, allow or enforce, got ${JSON.stringify(mode)}`);
  return Object.freeze({
    apq: boolVar(env, 'PERSISTED_QUERIES', true),
    apqTtlSeconds: intVar(env, 'APQ_TTL_SECONDS', 86_400, { min: 1 }),
    mode,
    manifestPath: resolve(stringVar(env, 'TRUSTED_DOCUMENTS_PATH', 'schema/persisted-queries.json')),
  });
}

/** The budgets of configured API keys (`API_KEYS`) join `COST_BUDGET_OVERRIDES` as `apikey:<name>`. */
function withApiKeyBudgets(cost: CostConfig, auth: AuthConfig): CostConfig {
  const overrides = new Map(cost.overrides);
  for (const key of auth.apiKeys.values()) {
    if (!key.budget) continue;
    if (overrides.has(`apikey:${key.name}`))
      throw new ConfigError(`API key ${key.name} has a budget in both API_KEYS and COST_BUDGET_OVERRIDES`);
    if (cost.mode === 'enforce' && key.budget.capacity < cost.maxCost)
      throw new ConfigError(
        `API_KEYS budget of ${key.name} (${key.budget.capacity}) is below COST_MAX ${cost.maxCost}`,
      );
    overrides.set(`apikey:${key.name}`, key.budget);
  }
  return overrides.size === cost.overrides.size ? cost : Object.freeze({ ...cost, overrides });
}

/** Reads the gateway configuration from `env` (usually `process.env`); throws ConfigError on a bad value. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const production = env.NODE_ENV === 'production';
  const host = stringVar(env, 'HOST', GATEWAY_DEFAULTS.host);
  if (/\s/.test(host)) throw new ConfigError(`HOST must be a host name or address, got ${JSON.stringify(host)}`);
  const subgraphTraffic = loadSubgraphTrafficConfig(env);
  const auth = loadAuthConfig(env, production);
  return Object.freeze({
    port: intVar(env, 'PORT', GATEWAY_DEFAULTS.port, { min: 0, max: 65_535 }),
    workers: intVar(env, 'GATEWAY_WORKERS', 1, { min: 1, max: 64 }),
    host,
    supergraph: supergraphSource(env),
    subgraphUrls: parseSubgraphUrls(env.SUBGRAPH_URLS),
    subgraphTimeoutMs: subgraphTraffic.defaults.timeoutMs,
    subgraphTraffic,
    subgraphMaxConnections: intVar(env, 'SUBGRAPH_MAX_CONNECTIONS', GATEWAY_DEFAULTS.subgraphMaxConnections, {
      min: 1,
      max: 10_000,
    }),
    subgraphDeduplication: boolVar(env, 'SUBGRAPH_DEDUPLICATION', false),
    production,
    introspection: boolVar(env, 'GATEWAY_INTROSPECTION', !production),
    sandbox: boolVar(env, 'GATEWAY_SANDBOX', !production),
    debugExtensions: debugExtensions(env, production),
    bodyLimitBytes: intVar(env, 'BODY_LIMIT_BYTES', GATEWAY_DEFAULTS.bodyLimitBytes, {
      min: 1,
      max: 1024 * 1024 * 1024,
    }),
    redisUrl: redisUrl(env),
    redisKeyPrefix: stringVar(env, 'REDIS_KEY_PREFIX', GATEWAY_DEFAULTS.redisKeyPrefix),
    responseCache: responseCacheConfig(env),
    persisted: persistedConfig(env),
    fieldSuggestions: boolVar(env, 'GATEWAY_FIELD_SUGGESTIONS', !production),
    cost: withApiKeyBudgets(loadCostConfig(env), auth),
    auth,
    operationLimits: loadOperationLimits(env),
    fieldRateLimits: loadFieldRateLimits(env),
    shutdown: loadShutdownConfig(env),
    telemetry: loadTelemetryConfig(env),
    http: loadHttpServerConfig(env),
    cors: loadCorsConfig(env),
    requestTelemetry: boolVar(env, 'GATEWAY_REQUEST_TELEMETRY', true),
    executor: executorMode(env),
    admission: admissionConfig(env),
  });
}
