import type { GatewayFeature } from '../feature';
import { createFieldRateLimits, type FieldRateLimitPluginOptions } from './plugin';

/** Field rate limits (`FIELD_RATE_LIMITS`): every call of a limited root field counts, cache hits included. */
export function useFieldRateLimits(options: FieldRateLimitPluginOptions): GatewayFeature {
  const limits = createFieldRateLimits(options);
  return {
    name: 'field-rate-limits',
    onCacheHit: true,
    duringWarmup: false,
    operation: limits.plugin,
    checkHit: limits.checkHit,
    answeredHit: limits.answeredHit,
  };
}
