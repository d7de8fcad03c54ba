import type { GatewayFeature } from '../feature';
import { COST_REPORT_HEADER } from '../cost/plugin';
import { createDebugExtensions, type DebugExtensions } from './plugin';

/** The debug extensions feature, with the query plan hook and the headers the sandbox pre-fills. */
export interface DebugExtensionsFeature extends GatewayFeature {
  readonly debug: DebugExtensions;
}

/**
 * Debug extensions (`GATEWAY_DEBUG_EXTENSIONS`): query plan, cost and cache
 * status in `extensions.debug` when asked with `x-debug`. Such requests
 * always take the full path (the hot path never answers them). Listed last:
 * it reads what the other features did when the response is serialized.
 */
export function useDebugExtensions(): DebugExtensionsFeature {
  // The cost feature reports estimated/actual cost only when asked with its header.
  const debug = createDebugExtensions({ companionHeaders: { [COST_REPORT_HEADER]: '1' } });
  return { name: 'debug-extensions', onCacheHit: false, duringWarmup: false, debug, operation: debug.plugin };
}
