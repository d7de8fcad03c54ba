import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type {
  CommerceError,
  CompleteResponse,
  GraphQLParams,
  PrepareResult,
  RawGraphQLRequest,
} from '@commerce/common';
import type { GatewayContext } from '../context';

/** A route of its own (exact path), answered before the GraphQL path: health, sandbox assets, cache purge. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * What a policy needs to know about an operation without parsing or planning
 * it: kept with every in-memory cache entry, so a hit passes the same
 * policies as the request that stored it.
 */
export interface OperationFacts {
  readonly operationName: string | null;
  readonly operationType: 'query' | 'mutation' | 'subscription';
  /** One `Type.field` per response key of the root selection, as execution collects them. */
  readonly rootFields: readonly string[];
  /** Estimated and actual cost points (absent when cost analysis is off or could not run). */
  readonly cost?: { readonly estimated: number; readonly actual: number };
  /** Labels of the access requirements of the operation's fields (features/authorization); a hit re-checks them. */
  readonly access?: readonly string[];
}

/** A request the response cache can answer: its facts, and how to send the stored bytes. */
export interface CachedResponse {
  readonly facts: OperationFacts;
  /** Writes the stored answer with `headers` added (ETag and 304 for public GETs). */
  send(req: IncomingMessage, res: ServerResponse, headers: Readonly<Record<string, string>>): void;
}

/** A cache hit on its way through the policies. */
export interface CacheHit {
  readonly context: GatewayContext;
  readonly facts: OperationFacts;
  /** Response headers the features add (request id, rate limit state…), sent with the answer or the refusal. */
  readonly headers: Record<string, string>;
}

/**
 * One capability of the gateway, plugged into the one request pipeline
 * (gateway/src/features/pipeline.ts; DESIGN §5.0). Every hook is optional; the
 * pipeline calls a hook of each feature in the order the features are listed.
 *
 * - HTTP: `wrap` surrounds the whole handling of every request (the first
 *   listed feature outermost); `routes` of its own; `prepare` sees (and may replace or refuse) the
 *   GraphQL parameters before anything else; `lookup` may answer from a cache.
 * - Context: `onContext` sees each request's context once it is built.
 * - Operation: `operation`, an Apollo Server plugin (Apollo Server's pipeline
 *   is the engine of parse, validation, planning and execution).
 * - Cache hit: `checkHit` (throw a CommerceError to refuse; return false to
 *   decline the hit, which then takes the full path) then `answeredHit`
 *   (headers, metrics), called only when `onCacheHit` is true.
 * - Subgraph fetch: `subgraphHeaders`, added to every fetch (given the subgraph's name).
 * - Response: `onResponse`, every complete response Apollo Server produced.
 */
export interface GatewayFeature {
  readonly name: string;
  /** Runs for requests the in-memory cache answers (with the entry's {@link OperationFacts}). */
  readonly onCacheHit: boolean;
  /** Runs for the gateway's own plan warm-up requests (phase `warmup`). Warm-up runs the plan stage only. */
  readonly duringWarmup: boolean;
  /** Surrounds the handling of every request, routes, refusals and cache hits included (a span, a timer). */
  readonly wrap?: (handler: RequestListener) => RequestListener;
  /** Called once per request when its context is built, before anything may answer. */
  readonly onContext?: (req: IncomingMessage, context: GatewayContext) => void;
  readonly routes?: Readonly<Record<string, Route>>;
  readonly prepare?: (params: GraphQLParams, req: IncomingMessage) => PrepareResult | Promise<PrepareResult>;
  readonly lookup?: (
    req: IncomingMessage,
    raw: RawGraphQLRequest,
    context: GatewayContext,
  ) => CachedResponse | undefined;
  readonly operation?: ApolloServerPlugin<GatewayContext>;
  /** False: this caller may not get the entry; the request takes the full path (only before any feature that counts). */
  readonly checkHit?: (hit: CacheHit) => boolean | void | Promise<boolean | void>;
  readonly answeredHit?: (hit: CacheHit, refusal: CommerceError | undefined) => void | Promise<void>;
  readonly subgraphHeaders?: (context: GatewayContext, subgraph: string) => Readonly<Record<string, string>>;
  readonly onResponse?: (
    req: IncomingMessage,
    raw: RawGraphQLRequest,
    context: GatewayContext | undefined,
    response: CompleteResponse,
  ) => void;
  /** Releases what the feature holds; called once when the gateway stops. */
  readonly close?: () => void | Promise<void>;
}
