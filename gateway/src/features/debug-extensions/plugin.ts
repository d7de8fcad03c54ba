import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GatewayContext } from '../../context';
import { CACHE_STATUS_HEADER } from '../response-cache/plugin';
import { formatQueryPlan, servicesOfPlan, type QueryPlan } from './query-plan-text';

/** The request header that asks for debug extensions, e.g. `x-debug: plan,cost,cache`. */
export const DEBUG_HEADER = 'x-debug';

/** What the header can ask for; `all`, `1` and `true` ask for everything. */
export const DEBUG_TOPICS = ['plan', 'cost', 'cache'] as const;
export type DebugTopic = (typeof DEBUG_TOPICS)[number];

/** `extensions.debug.cost`. `null` means nobody on this gateway reported that number. */
export interface DebugCost {
  estimated: number | null;
  actual: number | null;
}

/** `extensions.debug.cache`: what the response cache did and the cache policy the response got. */
export interface DebugCache {
  /** `HIT`, `MISS`, `BYPASS`… as the response cache reported it; `null` when no cache looked at the request. */
  status: string | null;
  /** Seconds, from the request's overall cache policy; `null` when none was computed. */
  maxAge: number | null;
  scope: string | null;
}

/**
 * `extensions.debug` of a response whose request carried the debug header:
 * only the topics asked for are present.
 */
export interface DebugExtension {
  /** The gateway's plan as text; `null` when nothing was planned (a cache hit, a request error). */
  queryPlan?: string | null;
  /** Subgraphs the plan fetched from. */
  subgraphs?: string[];
  cost?: DebugCost;
  cache?: DebugCache;
}

type ResponseContext = GraphQLRequestContextWillSendResponse<GatewayContext>;

/** Options of {@link createDebugExtensions}. Every reader runs when the response is serialized. */
export interface DebugExtensionsOptions {
  /** Request header that opts in. Default {@link DEBUG_HEADER}. */
  header?: string;
  /**
   * Headers other plugins need to report what `extensions.debug` shows (the
   * cost plugin reports only when asked); clients such as the sandbox send
   * them along with the debug header. Default none.
   */
  companionHeaders?: Readonly<Record<string, string>>;
  /**
   * Hook for query cost: the estimated and actual cost of the request.
   * Default {@link costFromExtensions}: the `extensions.cost` a cost plugin put
   * in the response (`estimated`/`actual`, or `estimatedCost`/`actualCost`).
   */
  readCost?: (requestContext: ResponseContext) => DebugCost | undefined;
  /**
   * Hook for the response cache: what it did with the request.
   * Default {@link cacheStatusFromHeaders}: the `x-cache` (or `cache-status`)
   * response header the response cache sets.
   */
  readCacheStatus?: (requestContext: ResponseContext) => string | undefined;
}

/** A debug extension factory: a plugin plus the planner callback that feeds it. */
export interface DebugExtensions {
  /** The request header that opts in. */
  readonly header: string;
  /** What a client sends to see everything: the debug header asking for every topic, plus the companion headers. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** Give to ApolloGateway as `experimental_didResolveQueryPlan`: keeps the plan of requests that ask for it. */
  readonly didResolveQueryPlan: Experimental_DidResolveQueryPlanCallback;
  readonly plugin: ApolloServerPlugin<GatewayContext>;
}

/** Parses the header value into topics; unknown words are ignored. */
export function parseDebugHeader(value: string | null | undefined): Set<DebugTopic> {
  const topics = new Set<DebugTopic>();
  for (const word of (value ?? '').toLowerCase().split(/[\s,]+/)) {
    if (word === 'all' || word === '1' || word === 'true') DEBUG_TOPICS.forEach((topic) => topics.add(topic));
    else if ((DEBUG_TOPICS as readonly string[]).includes(word)) topics.add(word as DebugTopic);
  }
  return topics;
}

const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

export function costFromExtensions(requestContext: ResponseContext): DebugCost | undefined {
  const body = requestContext.response.body;
  const cost = body.kind === 'single' ? body.singleResult.extensions?.cost : undefined;
  if (typeof cost !== 'object' || cost === null) return undefined;
  const fields = cost as Record<string, unknown>;
  return {
    estimated: numberOrNull(fields.estimated ?? fields.estimatedCost),
    actual: numberOrNull(fields.actual ?? fields.actualCost),
  };
}

export function cacheStatusFromHeaders(requestContext: ResponseContext): string | undefined {
  const headers = requestContext.response.http.headers;
  return headers.get(CACHE_STATUS_HEADER) ?? headers.get('cache-status') ?? undefined;
}

/**
 * Development aid: a request with the debug header gets `extensions.debug`
 * with the query plan, the estimated and actual cost and the cache status.
 * Those values are read when the response is serialized (getters), so they
 * see what every other plugin's `willSendResponse` wrote, whatever the plugin
 * order. Never install it in production: plans reveal the subgraph layout.
 */
export function createDebugExtensions({
  header = DEBUG_HEADER,
  companionHeaders = {},
  readCost = costFromExtensions,
  readCacheStatus = cacheStatusFromHeaders,
}: DebugExtensionsOptions = {}): DebugExtensions {
  // Per request: the plan, keyed by the request's context object.
  const plans = new WeakMap<object, QueryPlan>();

  return {
    header,
    requestHeaders: Object.freeze({ [header]: DEBUG_TOPICS.join(','), ...companionHeaders }),
    didResolveQueryPlan({ queryPlan, requestContext }) {
      if (parseDebugHeader(requestContext.request.http?.headers.get(header)).has('plan'))
        plans.set(requestContext.context, queryPlan);
    },
    plugin: {
      async requestDidStart() {
        return {
          async willSendResponse(requestContext) {
            const { response, request, contextValue } = requestContext;
            const topics = parseDebugHeader(request.http?.headers.get(header));
            if (topics.size === 0 || response.body.kind !== 'single') return;
            const debug: DebugExtension = {};
            if (topics.has('plan')) {
              const plan = plans.get(contextValue);
              debug.queryPlan = plan ? formatQueryPlan(plan) : null;
              debug.subgraphs = plan ? servicesOfPlan(plan) : [];
            }
            if (topics.has('cost')) {
              Object.defineProperty(debug, 'cost', {
                enumerable: true,
                get: (): DebugCost => readCost(requestContext) ?? { estimated: null, actual: null },
              });
            }
            if (topics.has('cache')) {
              Object.defineProperty(debug, 'cache', {
                enumerable: true,
                get: (): DebugCache => {
                  const policy = requestContext.overallCachePolicy;
                  return {
                    status: readCacheStatus(requestContext) ?? null,
                    maxAge: numberOrNull(policy.maxAge),
                    scope: policy.scope ?? null,
                  };
                },
              });
            }
            const result = response.body.singleResult;
            result.extensions = { ...result.extensions, debug };
          },
        };
      },
    },
  };
}
