import type { RequestListener } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { continueIncomingTraces, createGraphQLHttpHandler, createLogger, createRedis, listen, type Logger } from '@commerce/common';
import { createResponseCache } from './cache';
import { clusterMetricsText } from './cluster';
import { createPersistedDocuments } from './persisted';
import { createPlanCache } from './persisted/plan-cache';
import type { GatewayConfig } from './config';
import { createContext, type GatewayContext } from './context';
import { SubgraphDataSource } from './datasource';
import { createSubgraphAgent, createSubgraphFetcher } from './fetcher';
import { createFormatError } from './format-error';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { COST_REPORT_HEADER, createCostLimitPlugin } from './features/cost/plugin';
import { createDebugExtensions } from './features/debug-extensions/plugin';
import { createErrorLoggingPlugin } from './features/error-logging/plugin';
import { createFieldRateLimitPlugin } from './features/field-rate-limits/plugin';
import { createOperationLimitsPlugin } from './features/operation-limits/plugin';
import { createOperationMetricsPlugin } from './features/operation-metrics/plugin';
import { createRequestIdPlugin } from './features/request-id/plugin';
import { createSandbox } from './sandbox';
import { createSupergraphManager } from './supergraph';
import { createSupergraphSource } from './supergraph-source';
import { createRequestDeadlinePlugin, createSubgraphTrafficRegistry } from './traffic';

/** Options of {@link createGateway} and {@link startGateway}. */
export interface GatewayOptions {
  /** Default: a pino logger named `gateway` at `LOG_LEVEL`. */
  logger?: Logger;
}

/** A gateway that is built but does not listen: mount `handler` on any node:http server. */
export interface Gateway {
  /** Serves `/graphql`, `/health`, `/ready` (503 until the first supergraph loaded) and `/metrics`. */
  readonly handler: RequestListener;
  readonly metrics: GatewayMetrics;
  /** Loads the supergraph and starts Apollo; rejects if the supergraph cannot be loaded. Idempotent. */
  start(): Promise<void>;
  /** Stops Apollo (and the supergraph watcher), then closes subgraph connections. Idempotent. */
  stop(): Promise<void>;
  /** True once started and until stopped. */
  ready(): boolean;
}

/** A listening gateway. */
export interface RunningGateway {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  readonly port: number;
  /** Drains HTTP, then stops Apollo, then closes subgraph connections. Idempotent. */
  stop(): Promise<void>;
}

type Lifecycle =
  | { phase: 'initialized' }
  | { phase: 'starting'; done: Promise<void> }
  | { phase: 'started' }
  | { phase: 'stopping'; done: Promise<void> }
  | { phase: 'stopped' };

export function createGateway(config: GatewayConfig, { logger = createLogger('gateway') }: GatewayOptions = {}): Gateway {
  // @apollo/gateway otherwise reports usage metrics to Apollo and probes cloud
  // metadata endpoints at construction; a self-hosted gateway must not phone
  // home. The variable is the only switch it reads; an explicit value wins.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const metrics = createGatewayMetrics();
  const agent = createSubgraphAgent({ connections: config.subgraphMaxConnections });
  // Timeouts, retries, breakers and concurrency limits per subgraph name, kept across supergraph reloads.
  const traffic = createSubgraphTrafficRegistry({ config: config.subgraphTraffic, metrics, logger });
  const apolloLogger = logger.child({ component: 'apollo' });
  // The cost plugin reports estimated/actual cost only when asked with its header.
  const debug = config.debugExtensions ? createDebugExtensions({ companionHeaders: { [COST_REPORT_HEADER]: '1' } }) : undefined;
  const sandbox = config.sandbox ? createSandbox({ debugHeaders: debug?.requestHeaders ?? null }) : undefined;
  // One Redis connection for everything the gateway shares between instances.
  const redis = config.redisUrl ? createRedis(config.redisUrl, logger, 'gateway') : undefined;
  const responseCache = createResponseCache(config, redis, metrics, logger);
  const persisted = createPersistedDocuments(config, redis, metrics, logger, () => responseCache.clearHotPath());

  const gateway = new ApolloGateway({
    supergraphSdl: createSupergraphManager({
      source: createSupergraphSource(config.supergraph),
      subgraphUrls: config.subgraphUrls,
      metrics,
      logger,
    }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: config.subgraphUrls[name] ?? url ?? '',
        fetcher: createSubgraphFetcher({ serviceName: name, dispatcher: agent, timeoutMs: traffic.policyOf(name).timeoutMs, deduplicate: config.subgraphDeduplication }),
        requests: metrics.subgraphRequests,
        traffic: traffic.forSubgraph(name),
        requestTimeoutMs: config.subgraphTraffic.requestTimeoutMs,
        logger,
      }),
    logger: apolloLogger,
    queryPlannerConfig: { cache: createPlanCache(metrics.planCache) },
    __exposeQueryPlanExperimental: false,
    ...(debug ? { experimental_didResolveQueryPlan: debug.didResolveQueryPlan } : {}),
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    nodeEnv: config.production ? 'production' : 'development',
    logger: apolloLogger,
    csrfPrevention: true,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: !config.fieldSuggestions,
    formatError: createFormatError({ production: config.production }),
    stopOnTerminationSignals: false,
    // The token limit is the parser's: a huge document is refused while it is read (MAX_TOKENS_EXCEEDED, see formatError).
    parseOptions: config.operationLimits.maxTokens > 0 ? { maxTokens: config.operationLimits.maxTokens } : {},
    persistedQueries: persisted.apollo,
    plugins: [
      sandbox ? sandbox.plugin : ApolloServerPluginLandingPageDisabled(),
      createOperationMetricsPlugin({ operations: metrics.operations }),
      createRequestIdPlugin(),
      createRequestDeadlinePlugin({ timeoutMs: config.subgraphTraffic.requestTimeoutMs }),
      createErrorLoggingPlugin({ logger }),
      // Shape limits (before validation), then field rate limits, then cost: all refuse before planning.
      createOperationLimitsPlugin({ limits: config.operationLimits }),
      createFieldRateLimitPlugin({ limits: config.fieldRateLimits, redis, keyPrefix: config.redisKeyPrefix, registry: metrics.registry, logger }),
      createCostLimitPlugin({ config: config.cost, redis, keyPrefix: config.redisKeyPrefix, registry: metrics.registry, logger }),
      ...responseCache.plugins,
      // Last by convention; it reads other plugins' results when the response is serialized anyway.
      ...(debug ? [debug.plugin] : []),
    ],
  });

  let state: Lifecycle = { phase: 'initialized' };

  async function doStart(): Promise<void> {
    try {
      let apiSchema: GraphQLSchema | undefined;
      // After a supergraph change (plans cleared), plan the trusted documents again once Apollo Server has switched too.
      gateway.onSchemaLoadOrUpdate((update) => {
        apiSchema = update.apiSchema;
        responseCache.clearHotPath();
        setImmediate(() => state.phase === 'started' && void persisted.warmUp(apollo, update.apiSchema).catch(() => undefined));
      });
      await apollo.start();
      // Ready only once every trusted document is planned, so no first request pays for planning.
      if (apiSchema) await persisted.warmUp(apollo, apiSchema);
      state = { phase: 'started' };
    } catch (error) {
      state = { phase: 'stopped' };
      persisted.close();
      await agent.close();
      redis?.disconnect();
      throw error;
    }
  }

  async function doStop(wasStarted: boolean): Promise<void> {
    try {
      if (wasStarted) await apollo.stop();
    } finally {
      persisted.close();
      responseCache.close();
      await agent.close();
      redis?.disconnect();
      state = { phase: 'stopped' };
    }
  }

  // Ready while any subgraph can answer: one subgraph down still leaves partial data (README "Failure behaviour: subgraphs").
  const ready = (): boolean => state.phase === 'started' && traffic.anyAvailable();

  function start(): Promise<void> {
    switch (state.phase) {
      case 'initialized': {
        const done = doStart();
        state = { phase: 'starting', done };
        return done;
      }
      case 'starting':
        return state.done;
      case 'started':
        return Promise.resolve();
      case 'stopping':
      case 'stopped':
        return Promise.reject(new Error('The gateway was stopped; create a new one to start again'));
    }
  }

  async function stop(): Promise<void> {
    switch (state.phase) {
      case 'initialized':
      case 'started': {
        const done = doStop(state.phase === 'started');
        state = { phase: 'stopping', done };
        return done;
      }
      case 'starting':
        await state.done.catch(() => undefined);
        return stop();
      case 'stopping':
        return state.done;
      case 'stopped':
        return;
    }
  }

  return {
    handler: createGraphQLHttpHandler<GatewayContext>({ apollo, context: createContext, metrics, ready, bodyLimit: config.bodyLimitBytes, routes: { ...responseCache.routes, ...sandbox?.routes, '/ready/subgraphs': traffic.healthRoute },
      prepare: persisted.prepare,
      metricsText: clusterMetricsText(metrics.registry),
      shortcut: responseCache.shortcut,
      onResponse: responseCache.onResponse,
    }),
    metrics,
    ready,
    start,
    stop,
  };
}

/** Creates and starts a gateway and listens on `config.host`:`config.port` (0 picks a free port). */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const gateway = createGateway(config, options);
  await gateway.start();
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    // With tracing on, a request's spans (Apollo's gateway.request, plan, fetches) join the client's traceparent.
    listening = await listen(continueIncomingTraces(gateway.handler), { port: config.port, host: config.host, path: '/graphql', drainMs: config.shutdown.timeoutMs, delayMs: config.shutdown.delayMs });
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    url: listening.url,
    port: listening.port,
    stop() {
      stopping ??= listening.close().then(() => gateway.stop());
      return stopping;
    },
  };
}
