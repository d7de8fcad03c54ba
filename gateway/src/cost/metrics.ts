import { Counter, Histogram, type Registry } from 'prom-client';

/** Prometheus series of cost analysis and budgets, on the gateway's registry. */
export interface CostMetrics {
  /** `gateway_operation_cost{kind}`: estimated (before execution) and actual (from the response) cost per operation. */
  cost: Histogram<'kind'>;
  /**
   * `gateway_cost_limit_exceeded_total{reason,mode}`: over COST_MAX or too large to analyse (`too_expensive`),
   * a `@listSize` slicing contract broken (`slicing`), out of budget (`budget`); refused only in enforce mode.
   */
  exceeded: Counter<'reason' | 'mode'>;
  /** `gateway_cost_budget_errors_total`: budget store failures (the operation is then let through uncharged). */
  budgetErrors: Counter;
}

export function createCostMetrics(registry: Registry): CostMetrics {
  const registers = [registry];
  return {
    cost: new Histogram({
      name: 'gateway_operation_cost',
      help: 'Cost of GraphQL operations in points, estimated before execution and actual from the response (kind)',
      labelNames: ['kind'] as const,
      buckets: [0, 10, 100, 1_000, 10_000, 100_000, 1_000_000],
      registers,
    }),
    exceeded: new Counter({
      name: 'gateway_cost_limit_exceeded_total',
      help: 'Operations over COST_MAX (reason too_expensive), breaking a @listSize slicing contract (slicing) or over their client budget (budget), by COST_MODE',
      labelNames: ['reason', 'mode'] as const,
      registers,
    }),
    budgetErrors: new Counter({
      name: 'gateway_cost_budget_errors_total',
      help: 'Budget store failures (Redis down…); the operation is let through uncharged',
      registers,
    }),
  };
}
