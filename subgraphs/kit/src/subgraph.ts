import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener } from 'node:http';
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
  createInternalVerifier,
  createLogger,
  errorBody,
  INTERNAL_IDENTITY_HEADER,
  send,
  type InternalClaims,
  createRedis,
  createServiceMetrics,
  listen,
  serviceListenOptions,
  startTelemetry,
  type Logger,
  type ServiceMetrics,
} from '@commerce/common';
import type { SubgraphConfig } from './config';
import { createMemoryLsnStore, createRedisLsnStore, type LsnStore } from './db/lsn-store';
import { ShardedDb } from './db/sharded-db';
import { createCacheTags, createCacheTagsPlugin, type CacheTags } from './cache-tags';
import { principalFromClaims, type Principal } from './principal';
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

/**
 * Refuses every call of the GraphQL path (`_entities` and `_service`
 * included) without a valid internal token the gateway signed for this
 * subgraph: 401 before Apollo Server sees the request. `/health`, `/ready`
 * and `/metrics` stay open. The verified claims are kept for the context.
 */
function requireInternalIdentity(
  handler: RequestListener,
  verify: (token: string) => Promise<InternalClaims>,
  verified: WeakMap<IncomingMessage, InternalClaims>,
): RequestListener {
  return (req, res) => {
    const pathname = (req.url ?? '/').split('?', 1)[0];
    if (pathname !== '/graphql') return handler(req, res);
    const value = req.headers[INTERNAL_IDENTITY_HEADER];
    const token = Array.isArray(value) ? undefined : value;
    const refuse = (reason: string) => {
      res.setHeader('www-authenticate', 'Bearer realm="commerce-internal", error="invalid_token"');
      send(res, 401, errorBody('UNAUTHENTICATED', `Only the gateway may call this subgraph: ${reason}`));
      req.resume();
    };
    if (!token) return refuse(`the ${INTERNAL_IDENTITY_HEADER} header is missing`);
    verify(token).then(
      (claims) => {
        verified.set(req, claims);
        return handler(req, res);
      },
      () => refuse(`the ${INTERNAL_IDENTITY_HEADER} token is not valid (expired, another key or audience)`),
    );
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

  const verified = new WeakMap<IncomingMessage, InternalClaims>();
  const verify = createInternalVerifier(config.internalPublicKey, definition.name);
  const handler = createGraphQLHttpHandler<SubgraphContext<L>>({
    apollo,
    metrics,
    // 503 naming the shards whose primary is unreachable: this subgraph cannot take their writes.
    ready: () => db.readiness(),
    async context(req: IncomingMessage) {
      const claims = verified.get(req);
      // Unreachable past requireInternalIdentity; refused rather than anonymous if it ever were.
      if (!claims) throw new GraphQLError('No verified internal identity', { extensions: { code: 'UNAUTHENTICATED' } });
      const principal = principalFromClaims(claims);
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
  const server = await listen(
    requests.wrap(requireInternalIdentity(handler, verify, verified)),
    serviceListenOptions(config),
  ).catch(async (error: unknown) => {
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
