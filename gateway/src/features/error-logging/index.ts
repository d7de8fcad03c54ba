import type { Logger } from '@commerce/common';
import type { GatewayFeature } from '../feature';
import { createErrorLoggingPlugin } from './plugin';

/** Logs unexpected errors (codes outside the registry) with their request id; a cache hit has none. */
export function useErrorLogging(logger: Logger): GatewayFeature {
  return {
    name: 'error-logging',
    onCacheHit: false,
    duringWarmup: true,
    operation: createErrorLoggingPlugin({ logger }),
  };
}
