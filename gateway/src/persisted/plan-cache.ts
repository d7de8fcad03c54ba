import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { QueryPlan } from '@apollo/query-planner';
import type { Counter } from 'prom-client';

/**
 * The gateway's query-plan cache (ApolloGateway `queryPlannerConfig.cache`),
 * counting hits and misses so warm-up and planning cost are observable.
 * ApolloGateway clears it on every supergraph change.
 */
export function createPlanCache(counter: Counter<'result'>, maxBytes = 30 * 1024 * 1024) {
  const inner = new InMemoryLRUCache<QueryPlan>({
    maxSize: maxBytes,
    sizeCalculation: (plan) => JSON.stringify(plan).length,
  });
  return {
    async get(key: string) {
      const plan = await inner.get(key);
      counter.inc({ result: plan ? 'hit' : 'miss' });
      return plan;
    },
    set: (key: string, plan: QueryPlan, options?: { ttl?: number | null }) => inner.set(key, plan, options),
    delete: (key: string) => inner.delete(key),
    clear: () => inner.clear(),
  };
}
