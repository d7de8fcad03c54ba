import { createRequestDeadlinePlugin } from '../../traffic';
import type { GatewayFeature } from '../feature';

/**
 * Starts each request's deadline (`GATEWAY_REQUEST_TIMEOUT_MS`), the time
 * every subgraph fetch of it is cut at; cache hits fetch nothing.
 */
export function useRequestDeadline(timeoutMs: number): GatewayFeature {
  return {
    name: 'request-deadline',
    onCacheHit: false,
    duringWarmup: false,
    operation: createRequestDeadlinePlugin({ timeoutMs }),
  };
}
