import type { RequestListener } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer } from '@apollo/server';
import {
  createGraphQLHttpHandler,
  createLogger,
  createRedis,
  listen,
  serviceListenOptions,
  type Logger,
} from '@commerce/common';
import { clusterMetricsText } from './cluster';
import { createPlanCache } from './persisted/plan-cache';
import type { GatewayConfig } from './config';
import type { GatewayContext } from './context';
import { SubgraphDataSource } from './datasource';
import { AdmissionControl } from './admission';
import { installExecutor } from './executor';
import { createSubgraphAgent, createSubgraphFetcher } from './fetcher';
import { createFormatError } from './format-error';
import { useAuthorization } from './features/authorization';
import { useCors } from './features/cors';
import { useCostLimits } from './features/cost';
import { useDebugExtensions } from './features/debug-extensions';
import { useErrorLogging } from './features/error-logging';
import { useFieldRateLimits } from './features/field-rate-limits';
import { useIdentity } from './features/identity';
import { useOperationLimits } from './features/operation-limits';
import { useOperationMetrics } from './features/operation-metrics';
import { usePersistedDocuments } from './features/persisted-documents';
import { createPipeline } from './features/pipeline';
import { useRequestDeadline } from './features/request-deadline';
import { useRequestId } from './features/request-id';
import { useResponseCache } from './features/response-cache';
import { useSandbox } from './features/sandbox';
import { mintToken } from './features/identity/dev-tokens';
import type { SandboxSignIn } from './sandbox';
import { useTelemetry } from './features/telemetry';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { createSupergraphManager } from './supergraph';
import { createSupergraphSource } from './supergraph-source';
import { createSubgraphTrafficRegistry } from './traffic';

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

/** The sandbox's "sign in as": only outside production, and only with a development secret (JWT_SECRET). */
function sandboxSignIn({ production, auth }: GatewayConfig): SandboxSignIn | undefined {
  const secret = auth.jwtSecret;
  if (production || !secret) return undefined;
  return {
    // User 1 of the seed: signed in with the admin scopes.
    adminUser: 'usr_4198501793793',
    mint: (user, scopes) => mintToken({ secret, user, scopes, issuer: auth.issuer, audience: auth.audience }),
  };
}

type Lifecycle =
  | { phase: 'initialized' }
  | { phase: 'starting'; done: Promise<void> }
  | { phase: 'started' }
  | { phase: 'stopping'; done: Promise<void> }
  | { phase: 'stopped' };

export function createGateway(
  config: GatewayConfig,
  { logger = createLogger('gateway') }: GatewayOptions = {},
): Gateway {
  // @apollo/gateway otherwise reports usage metrics to Apollo and probes cloud
  // metadata endpoints at construction; a self-hosted gateway must not phone
  // home. The variable is the only switch it reads; an explicit value wins.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const metrics = createGatewayMetrics();
  const agent = createSubgraphAgent({ connections: config.subgraphMaxConnections });
  // Timeouts, retries, breakers and concurrency limits per subgraph name, kept across supergraph reloads.
  const traffic = createSubgraphTrafficRegistry({ config: config.subgraphTraffic, metrics, logger });
  const apolloLogger = logger.child({ component: 'apollo' });
  // One Redis connection for everything the gateway shares between instances.
  const redis = config.redisUrl ? createRedis(config.redisUrl, logger, 'gateway') : undefined;
  const shared = { redis, keyPrefix: config.redisKeyPrefix, registry: metrics.registry, logger };
  const formatError = createFormatError({ production: config.production });

  // The request pipeline (DESIGN §5.0, README "Architecture"): the features in the order they see a request.
  const identity = useIdentity(config.auth);
  const authorization = useAuthorization();
  const responseCache = useResponseCache({ config, redis, metrics, logger });
  const persisted = usePersistedDocuments({
    config,
    redis,
    metrics,
    logger,
    onManifestChange: () => responseCache.clearHotPath(),
  });
  const debug = config.debugExtensions ? useDebugExtensions() : undefined;
  const pipeline = createPipeline({
    identity,
    formatError,
    features: [
      // First: its span, timer and log line surround everything else, cache hits and refusals included.
      ...(config.requestTelemetry
        ? [
            useTelemetry({
              registry: metrics.registry,
              logger,
              operationLabels: { known: (name) => persisted.documents.hasOperationName(name) },
            }),
          ]
        : []),
      // Answers preflights from listed origins before anything else runs; no CORS header for any other origin.
      useCors(config.cors),
      useRequestId(),
      identity,
      // Right after identity: removes what the caller may not see before anything is cached, counted or planned.
      authorization,
      useSandbox({
        enabled: config.sandbox,
        debugHeaders: debug?.debug.requestHeaders ?? null,
        signIn: sandboxSignIn(config),
      }),
      useRequestDeadline(config.subgraphTraffic.requestTimeoutMs),
      useErrorLogging(logger),
      persisted,
      responseCache,
      // Shape limits (before validation), then field rate limits, then cost: all refuse before planning, hits included.
      useOperationLimits(config.operationLimits),
      useFieldRateLimits({ limits: config.fieldRateLimits, ...shared }),
      useCostLimits({ config: config.cost, ...shared }),
      useOperationMetrics(metrics),
      // Last: it reads the other features' results when the response is serialized.
      ...(debug ? [debug] : []),
    ],
  });

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
        fetcher: createSubgraphFetcher({
          serviceName: name,
          dispatcher: agent,
          timeoutMs: traffic.policyOf(name).timeoutMs,
          deduplicate: config.subgraphDeduplication,
        }),
        headers: pipeline.subgraphHeaders,
        requests: metrics.subgraphRequests,
        traffic: traffic.forSubgraph(name),
        requestTimeoutMs: config.subgraphTraffic.requestTimeoutMs,
        logger,
      }),
    logger: apolloLogger,
    queryPlannerConfig: { cache: createPlanCache(metrics.planCache) },
    __exposeQueryPlanExperimental: false,
    ...(debug ? { experimental_didResolveQueryPlan: debug.debug.didResolveQueryPlan } : {}),
  });

  installExecutor(gateway, { mode: config.executor, logger, mismatches: metrics.executorMismatches });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    nodeEnv: config.production ? 'production' : 'development',
    logger: apolloLogger,
    csrfPrevention: true,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: !config.fieldSuggestions,
    formatError,
    stopOnTerminationSignals: false,
    // The token limit is the parser's: a huge document is refused while it is read (MAX_TOKENS_EXCEEDED, see formatError).
    parseOptions: config.operationLimits.maxTokens > 0 ? { maxTokens: config.operationLimits.maxTokens } : {},
    persistedQueries: persisted.documents.apollo,
    plugins: pipeline.plugins,
  });

  let state: Lifecycle = { phase: 'initialized' };

  async function doStart(): Promise<void> {
    try {
      let apiSchema: GraphQLSchema | undefined;
      // After a supergraph change (plans cleared), plan the trusted documents again once Apollo Server has switched too.
      gateway.onSchemaLoadOrUpdate((update) => {
        apiSchema = update.apiSchema;
        authorization.useSupergraph(update.apiSchema, update.coreSupergraphSdl);
        responseCache.clearHotPath();
        setImmediate(
          () =>
            state.phase === 'started' &&
            void persisted.documents.warmUp(apollo, update.apiSchema).catch(() => undefined),
        );
      });
      await apollo.start();
      // Ready only once every trusted document is planned, so no first request pays for planning.
      if (apiSchema) await persisted.documents.warmUp(apollo, apiSchema);
      state = { phase: 'started' };
    } catch (error) {
      state = { phase: 'stopped' };
      await pipeline.close();
      await agent.close();
      redis?.disconnect();
      throw error;
    }
  }

  // Waits longer than a request's deadline are refused: such an operation could not finish in time anyway.
  const admission = config.admission
    ? new AdmissionControl({
        ...config.admission,
        maxWaitMs: config.subgraphTraffic.requestTimeoutMs,
        metrics: {
          limit: metrics.admissionLimit,
          inFlight: metrics.admissionInFlight,
          queued: metrics.admissionQueued,
          rejected: metrics.admissionRejected,
        },
      })
    : undefined;

  async function doStop(wasStarted: boolean): Promise<void> {
    try {
      if (wasStarted) await apollo.stop();
    } finally {
      admission?.close();
      await pipeline.close();
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
    handler: pipeline.wrap(
      createGraphQLHttpHandler<GatewayContext>({
        apollo,
        context: pipeline.context,
        metrics,
        ready,
        bodyLimit: config.bodyLimitBytes,
        routes: { ...pipeline.routes, '/ready/subgraphs': traffic.healthRoute },
        prepare: pipeline.prepare,
        metricsText: clusterMetricsText(metrics.registry),
        shortcut: pipeline.shortcut,
        ...(admission ? { admit: () => admission.admit() } : {}),
        onResponse: pipeline.onResponse,
      }),
    ),
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
    // With tracing on, the telemetry feature's server span continues the client's traceparent (features/telemetry).
    listening = await listen(gateway.handler, serviceListenOptions(config));
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
