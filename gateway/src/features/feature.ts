import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * - HTTP: `routes` of its own; `prepare` sees (and may replace or refuse) the
 *   GraphQL parameters before anything else; `lookup` may answer from a cache.
 * - Operation: `operation`, an Apollo Server plugin (Apollo Server's pipeline
 *   is the engine of parse, validation, planning and execution).
 * - Cache hit: `checkHit` (throw a CommerceError to refuse) then `answeredHit`
 *   (headers, metrics), called only when `onCacheHit` is true.
 * - Subgraph fetch: `subgraphHeaders`, added to every fetch.
 * - Response: `onResponse`, every complete response Apollo Server produced.
 */
export interface GatewayFeature {
  readonly name: string;
  /** Runs for requests the in-memory cache answers (with the entry's {@link OperationFacts}). */
  readonly onCacheHit: boolean;
  /** Runs for the gateway's own plan warm-up requests (phase `warmup`). Warm-up runs the plan stage only. */
  readonly duringWarmup: boolean;
  readonly routes?: Readonly<Record<string, Route>>;
  readonly prepare?: (params: GraphQLParams, req: IncomingMessage) => PrepareResult | Promise<PrepareResult>;
  readonly lookup?: (
    req: IncomingMessage,
    raw: RawGraphQLRequest,
    context: GatewayContext,
  ) => CachedResponse | undefined;
  readonly operation?: ApolloServerPlugin<GatewayContext>;
  readonly checkHit?: (hit: CacheHit) => void | Promise<void>;
  readonly answeredHit?: (hit: CacheHit, refusal: CommerceError | undefined) => void | Promise<void>;
  readonly subgraphHeaders?: (context: GatewayContext) => Readonly<Record<string, string>>;
  readonly onResponse?: (
    req: IncomingMessage,
    raw: RawGraphQLRequest,
    context: GatewayContext | undefined,
    response: CompleteResponse,
  ) => void;
  /** Releases what the feature holds; called once when the gateway stops. */
  readonly close?: () => void | Promise<void>;
}
