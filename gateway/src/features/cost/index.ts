import type { GatewayFeature } from '../feature';
import { createCostLimits, type CostLimitPluginOptions } from './plugin';

export { COST_REPORT_HEADER } from './plugin';

/**
 * Query cost limits (`COST_*`): the estimate refused over `COST_MAX`, the
 * client's budget charged, the actual cost refunded; cache hits are charged
 * from the costs their entry carries. Budgets are leased from Redis, so a
 * hit costs no round trip while the instance's lease lasts.
 */
export function useCostLimits(options: CostLimitPluginOptions): GatewayFeature {
  const limits = createCostLimits(options);
  return { name: 'cost', onCacheHit: true, duringWarmup: false, operation: limits.plugin, checkHit: limits.checkHit };
}
