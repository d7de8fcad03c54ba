import type { GatewayMetrics } from '../../metrics';
import type { GatewayFeature } from '../feature';
import { createOperationMetricsPlugin } from './plugin';

/** `gateway_operations_total` by type and result, for every client operation: cache hits and refusals included, warm-up never. */
export function useOperationMetrics(metrics: Pick<GatewayMetrics, 'operations'>): GatewayFeature {
  return {
    name: 'operation-metrics',
    onCacheHit: true,
    duringWarmup: false,
    operation: createOperationMetricsPlugin({ operations: metrics.operations }),
    answeredHit(hit, refusal) {
      metrics.operations.inc({ type: hit.facts.operationType, result: refusal ? 'error' : 'ok' });
    },
  };
}
