import type { GatewayMetrics } from '../../metrics';
import type { GatewayFeature } from '../feature';
import { createOperationMetricsPlugin } from './plugin';

/**
 * `gateway_operations_total` by type and result, for every client operation:
 * cache hits and refusals included, warm-up never.
 */
export function useOperationMetrics(metrics: Pick<GatewayMetrics, 'operations'>): GatewayFeature {
  // Hits count through children bound once per type and result, without hashing label sets per request.
  const counters = new Map<string, { inc(): void }>();
  const counter = (type: string, result: string) => {
    const key = `${type} ${result}`;
    let child = counters.get(key);
    if (!child) counters.set(key, (child = metrics.operations.labels({ type, result })));
    return child;
  };
  return {
    name: 'operation-metrics',
    onCacheHit: true,
    duringWarmup: false,
    operation: createOperationMetricsPlugin({ operations: metrics.operations }),
    answeredHit(hit, refusal) {
      counter(hit.facts.operationType, refusal ? 'error' : 'ok').inc();
    },
  };
}
