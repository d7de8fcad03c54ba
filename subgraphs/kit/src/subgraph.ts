import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import {
  createGraphQLHttpHandler,
  createLogger,
  createRedis,
  createServiceMetrics,
  listen,
  startTelemetry,
  type Logger,
  type ServiceMetrics,
} from '@commerce/common';
import type { SubgraphConfig } from './config';
import { createMemoryLsnStore, createRedisLsnStore, type LsnStore } from './db/lsn-store';
import { ShardedDb } from './db/sharded-db';
import { createCacheTags, createCacheTagsPlugin, type CacheTags } from './cache-tags';
import { principalFromHeaders, type Principal } from './principal';
import { createRequestTelemetry } from './request-telemetry';

/** What every resolver receives. */
export interface SubgraphContext<L> {
  principal: Principal;
  db: ShardedDb;
  loaders: L;
  logger: Logger;
  /** Entities resolved and changed by this request, reported to the gateway's response cache. */
  cacheTags: CacheTags;
}

/** A subgraph: its SDL, resolvers and per-request loader factory. */
export interface SubgraphDefinition<L> {
  name: string;
  /** Path of the SDL file (the source of truth in `schema/`). */
  sdlPath: string;
  resolvers: GraphQLResolverMap<SubgraphContext<L>>;
  /** Builds fresh DataLoaders for one request (never shared across requests). */
  createLoaders(db: ShardedDb, principal: Principal): L;
}

export interface RunningSubgraph {
  url: string;
  port: number;
  db: ShardedDb;
  metrics: ServiceMetrics;
  stop(): Promise<void>;
}

/** Keeps codes we raise on purpose; anything else is masked so driver messages never reach clients. */
function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const code = formatted.extensions?.code;
    if (code && code !== 'INTERNAL_SERVER_ERROR') {
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'resolver failed');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** Builds the subgraph's Apollo Server and HTTP handler and listens on the configured port. */
export async function startSubgraph<L>(
  definition: SubgraphDefinition<L>,
  config: SubgraphConfig,
  logger: Logger = createLogger(definition.name),
): Promise<RunningSubgraph> {
  const metrics = createServiceMetrics(definition.name);
  const requests = createRequestTelemetry({ service: definition.name, registry: metrics.registry, logger });
  const redis = config.redisUrl ? createRedis(config.redisUrl, logger, 'read-your-writes positions') : undefined;
  const lsnStore: LsnStore = redis
    ? createRedisLsnStore(redis, config.readYourWritesTtlMs, undefined, definition.name)
    : createMemoryLsnStore(config.readYourWritesTtlMs);
  const db = new ShardedDb({
    shardMap: config.shardMap,
    subgraph: definition.name,
    registry: metrics.registry,
    lsnStore,
    logger,
    poolSize: config.poolSize,
    replicaCheckIntervalMs: config.replicaCheckIntervalMs,
    replicaMaxLagMs: config.replicaMaxLagMs,
    statementTimeoutMs: config.statementTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  await db.start();

  const schema = buildSubgraphSchema({
    typeDefs: parse(readFileSync(definition.sdlPath, 'utf8')),
    resolvers: definition.resolvers as GraphQLResolverMap<unknown>,
  });
  const apollo = new ApolloServer<SubgraphContext<L>>({
    schema,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError: formatError(logger),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      createCacheTagsPlugin<SubgraphContext<L>>(schema),
      requests.plugin<SubgraphContext<L>>(),
    ],
    logger,
    // The process's signal handler (runSubgraphMain) drains HTTP first, then stops Apollo once.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const handler = createGraphQLHttpHandler<SubgraphContext<L>>({
    apollo,
    metrics,
    // 503 naming the shards whose primary is unreachable: this subgraph cannot take their writes.
    ready: () => db.readiness(),
    async context(req: IncomingMessage) {
      const principal = principalFromHeaders(req.headers);
      const context = {
        principal,
        db,
        loaders: definition.createLoaders(db, principal),
        logger,
        cacheTags: createCacheTags(),
      };
      requests.attach(req, context);
      return context;
    },
  });
  // Spans are exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed by stop(). Started
  // before the listener is wrapped (tracing off, the wrapper is the handler itself).
  const telemetry = startTelemetry(config.telemetry, definition.name);
  const server = await listen(requests.wrap(handler), {
    port: config.port,
    host: config.host,
    path: '/graphql',
    drainMs: config.shutdown.timeoutMs,
    delayMs: config.shutdown.delayMs,
  }).catch(async (error: unknown) => {
    await telemetry.shutdown();
    throw error;
  });
  logger.info({ url: server.url, shards: config.shardMap.shards.length }, `${definition.name} subgraph listening`);

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    db,
    metrics,
    stop() {
      // Drain HTTP (readiness 503, requests in flight finish), then Apollo, then the pools, then Redis.
      stopping ??= (async () => {
        await server.close();
        try {
          await apollo.stop();
        } finally {
          await db.close();
          await lsnStore.close();
          redis?.disconnect();
          await telemetry.shutdown();
        }
      })();
      return stopping;
    },
  };
}
