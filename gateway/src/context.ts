import type { IncomingMessage } from 'node:http';
import { createTagCollector, type CacheTagCollector } from './cache/collector';
import type { CacheEntryInfo } from './cache/hot-path';
import { principalFromRequest, type Principal } from './principal';

/** What every gateway request carries through Apollo Server to the data sources. */
export interface GatewayContext {
  principal: Principal;
  /** Entity tags reported by the subgraphs this request called (response cache). */
  cacheTags: CacheTagCollector;
  /**
   * True for the gateway's own plan warm-up requests: data sources answer
   * without calling subgraphs, and plugins that meter clients skip them.
   */
  warmup?: boolean;
  /**
   * What happened to this request, for the HTTP layer after Apollo Server is
   * done. An object shared by reference, because Apollo Server runs each
   * operation with a shallow copy of the context.
   */
  outcome: { cacheEntry?: CacheEntryInfo };
}

export async function createContext(req: IncomingMessage): Promise<GatewayContext> {
  return { principal: principalFromRequest(req), cacheTags: createTagCollector(), outcome: {} };
}
