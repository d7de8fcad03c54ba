import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@commerce/common';
import { policyOf, type SubgraphPolicyConfig, type SubgraphTrafficConfig } from './config';
import { RetryBudget } from './retry-budget';
import { SubgraphTraffic, type BreakerState, type SubgraphTrafficOptions } from './subgraph-traffic';

export { loadSubgraphTrafficConfig, type SubgraphTrafficConfig } from './config';
export { createRequestDeadlinePlugin, requestDeadline } from './deadline';
export type { SubgraphCall, SubgraphTraffic } from './subgraph-traffic';

/** Options of {@link createSubgraphTrafficRegistry}. */
export interface SubgraphTrafficRegistryOptions {
  config: SubgraphTrafficConfig;
  metrics: SubgraphTrafficOptions['metrics'];
  logger: Logger;
}

/** One subgraph's health, as `/ready/subgraphs` reports it. */
export interface SubgraphHealth {
  breaker: BreakerState;
  /** False while its circuit is open and no probe is due: its fields come back null with SUBGRAPH_UNAVAILABLE. */
  available: boolean;
}

/** The traffic policies of every subgraph, one set per name for the gateway's lifetime (across supergraph reloads). */
export interface SubgraphTrafficRegistry {
  /** The policies of subgraph `name`, created on first use. */
  forSubgraph(name: string): SubgraphTraffic;
  /** The settings of subgraph `name` (defaults with its overrides). */
  policyOf(name: string): SubgraphPolicyConfig;
  /** Health of every subgraph called or built so far. */
  health(): Record<string, SubgraphHealth>;
  /**
   * False only when every known subgraph is unavailable (its circuit open):
   * then the gateway can answer nothing but errors. One subgraph down still
   * leaves partial answers, so it keeps the gateway ready.
   */
  anyAvailable(): boolean;
  /** `GET /ready/subgraphs`: `{ status, subgraphs: { name: SubgraphHealth } }`, 503 when nothing is available. */
  healthRoute(req: IncomingMessage, res: ServerResponse): void;
}

export function createSubgraphTrafficRegistry({
  config,
  metrics,
  logger,
}: SubgraphTrafficRegistryOptions): SubgraphTrafficRegistry {
  const subgraphs = new Map<string, SubgraphTraffic>();
  const registry: SubgraphTrafficRegistry = {
    forSubgraph(name) {
      let traffic = subgraphs.get(name);
      if (!traffic) {
        traffic = new SubgraphTraffic({
          name,
          policy: policyOf(config, name),
          retryBackoffMs: config.retryBackoffMs,
          budget: new RetryBudget({ percent: config.retryBudgetPercent, burst: config.retryBudgetBurst }),
          metrics,
          logger,
        });
        subgraphs.set(name, traffic);
      }
      return traffic;
    },
    policyOf: (name) => policyOf(config, name),
    health() {
      const health: Record<string, SubgraphHealth> = {};
      for (const [name, traffic] of subgraphs) health[name] = { breaker: traffic.state, available: traffic.available };
      return health;
    },
    anyAvailable() {
      if (subgraphs.size === 0) return true;
      for (const traffic of subgraphs.values()) if (traffic.available) return true;
      return false;
    },
    healthRoute(_req, res) {
      const available = registry.anyAvailable();
      res.statusCode = available ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      res.end(JSON.stringify({ status: available ? 'ready' : 'not ready', subgraphs: registry.health() }));
    },
  };
  return registry;
}
