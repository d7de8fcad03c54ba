import type { IncomingMessage } from 'node:http';
import { principalFromRequest, principalHeaders, type Principal } from '../../principal';
import type { GatewayFeature } from '../feature';

/** Establishes who the caller is; the pipeline asks it first, before anything may answer. */
export interface Identity {
  /** Reads the caller from a request; throws BAD_REQUEST (400) for a malformed identity header. */
  identify(req: IncomingMessage): Principal;
}

/**
 * Client identity: today the development headers `x-user-id`,
 * `x-session-id` and `x-api-key` (principal.ts); a JWT feature replaces this
 * one with the same contract. Runs on every request, cache hits included, and
 * forwards the caller to every subgraph fetch.
 */
export function useIdentity(): GatewayFeature & Identity {
  return {
    name: 'identity',
    onCacheHit: true,
    duringWarmup: true,
    identify: principalFromRequest,
    subgraphHeaders: (context) => principalHeaders(context.principal),
  };
}
