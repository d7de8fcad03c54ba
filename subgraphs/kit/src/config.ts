import {
  ConfigError,
  intVar,
  internalPublicKeyVar,
  loadHttpServerConfig,
  loadShutdownConfig,
  loadTelemetryConfig,
  optionalVar,
  stringVar,
  type HttpServerConfig,
  type ShutdownConfig,
  type TelemetryConfig,
  type Env,
} from '@commerce/common';
import type { KeyObject } from 'node:crypto';
import { shardMapFromEnv, type ShardMap } from './shard-map';

/** Configuration of one subgraph process, parsed once from the environment. */
export interface SubgraphConfig {
  readonly port: number;
  readonly host: string;
  readonly shardMap: ShardMap;
  /** Redis for shared read-your-writes positions; in-process when absent. */
  readonly redisUrl?: string;
  readonly poolSize: number;
  readonly readYourWritesTtlMs: number;
  readonly replicaCheckIntervalMs: number;
  /** A replica serves reads (and is re-admitted after a failure) only while its replay lag is at most this. */
  readonly replicaMaxLagMs: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly production: boolean;
  /** `SHUTDOWN_TIMEOUT_MS`, `SHUTDOWN_DELAY_MS`: how a stop signal drains. */
  readonly shutdown: ShutdownConfig;
  /** `HTTP_HEADERS_TIMEOUT_MS`, `HTTP_REQUEST_TIMEOUT_MS`, `METRICS_PORT`, `METRICS_TOKEN` (common/src/listen.ts). */
  readonly http: HttpServerConfig;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` and friends: where spans go (tracing is off without an endpoint). */
  readonly telemetry: TelemetryConfig;
  /** `INTERNAL_IDENTITY_PUBLIC_KEY` (required): verifies the identity the gateway signs for every call. */
  readonly internalPublicKey: KeyObject;
}

export function loadSubgraphConfig(env: Env, defaultPort: number, shardMap?: ShardMap): SubgraphConfig {
  const map = shardMap ?? shardMapFromEnv(env);
  if (!map) throw new ConfigError('no database configured: set SHARD_MAP (JSON or a file path) or DATABASE_SHARDS');
  return Object.freeze({
    port: intVar(env, 'PORT', defaultPort, { min: 0, max: 65535 }),
    host: stringVar(env, 'HOST', '127.0.0.1'),
    shardMap: map,
    redisUrl: optionalVar(env, 'REDIS_URL'),
    poolSize: intVar(env, 'DB_POOL_SIZE', 10, { min: 1, max: 1000 }),
    readYourWritesTtlMs: intVar(env, 'READ_YOUR_WRITES_TTL_MS', 60_000, { min: 1000 }),
    replicaCheckIntervalMs: intVar(env, 'REPLICA_CHECK_INTERVAL_MS', 500, { min: 50 }),
    replicaMaxLagMs: intVar(env, 'REPLICA_MAX_LAG_MS', 5000, { min: 0 }),
    statementTimeoutMs: intVar(env, 'DB_STATEMENT_TIMEOUT_MS', 5000, { min: 100 }),
    connectTimeoutMs: intVar(env, 'DB_CONNECT_TIMEOUT_MS', 10_000, { min: 100 }),
    production: env.NODE_ENV === 'production',
    shutdown: loadShutdownConfig(env),
    http: loadHttpServerConfig(env),
    telemetry: loadTelemetryConfig(env),
    internalPublicKey: internalPublicKeyVar(env),
  });
}
