import type { OperationLimits } from '../../limits/config';
import type { GatewayFeature } from '../feature';
import { createOperationLimitsPlugin } from './plugin';

/**
 * Operation shape limits (`MAX_QUERY_DEPTH`, `MAX_ALIASES`, `MAX_ROOT_FIELDS`,
 * `MAX_DIRECTIVES`; `MAX_TOKENS` is the parser's), before validation. A cache
 * hit is the exact bytes of a document that passed them under the same
 * limits (limits are read once at start), so on hits it has nothing to redo.
 */
export function useOperationLimits(limits: OperationLimits): GatewayFeature {
  return {
    name: 'operation-limits',
    onCacheHit: true,
    duringWarmup: true,
    operation: createOperationLimitsPlugin({ limits }),
  };
}
