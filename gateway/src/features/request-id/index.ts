import { REQUEST_ID_HEADER } from '../../principal';
import type { GatewayFeature } from '../feature';
import { createRequestIdPlugin } from './plugin';

/**
 * Request id: the client's `x-request-id` when short and plain, else a new
 * one (read with the identity, principal.ts), sent to subgraphs and echoed on
 * every response, cache hits included.
 */
export function useRequestId(): GatewayFeature {
  return {
    name: 'request-id',
    onCacheHit: true,
    duringWarmup: false,
    operation: createRequestIdPlugin(),
    answeredHit(hit) {
      hit.headers[REQUEST_ID_HEADER] = hit.context.principal.requestId;
    },
  };
}
