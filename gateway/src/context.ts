import { createTagCollector, type CacheTagCollector } from './cache/collector';
import type { CacheEntryInfo } from './cache/hot-path';
import type { OperationFacts } from './features/feature';
import type { Principal } from './principal';

/**
 * `serve`: a client's request. `warmup`: the gateway's own plan warm-up;
 * the pipeline runs only the features that declare `duringWarmup`, and no
 * subgraph is called.
 */
export type RequestPhase = 'serve' | 'warmup';

/**
 * What happened to a request, for the HTTP layer after Apollo Server is
 * done. An object shared by reference, because Apollo Server runs each
 * operation with a shallow copy of the context.
 */
export interface RequestOutcome {
  /** Set by the response cache when it stored or served an entry. */
  cacheEntry?: CacheEntryInfo;
  /** Set by the response cache with `cacheEntry`: what the policies need on a later hit. */
  operation?: Omit<OperationFacts, 'cost'>;
  /** Set by the authorization feature: labels of the requirements of the operation's fields. */
  access?: readonly string[];
  /** Set by the cost feature once the actual cost is known. */
  cost?: OperationFacts['cost'];
}

/** What every gateway request carries through Apollo Server to the data sources. */
export interface GatewayContext {
  readonly phase: RequestPhase;
  readonly principal: Principal;
  /** Entity tags reported by the subgraphs this request called (response cache). */
  readonly cacheTags: CacheTagCollector;
  readonly outcome: RequestOutcome;
}

export function createContext(principal: Principal, phase: RequestPhase = 'serve'): GatewayContext {
  return { phase, principal, cacheTags: createTagCollector(), outcome: {} };
}
