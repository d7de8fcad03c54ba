import { ConfigError, intVar, optionalVar, stringVar, type Env } from '@commerce/common';

/**
 * `off`: no cost analysis at all. `measure`: estimate, charge budgets and
 * report, never reject. `enforce`: also reject operations over the maximum
 * (COST_ESTIMATED_TOO_EXPENSIVE) and clients out of budget (RATE_LIMITED, 429).
 */
export type CostMode = 'off' | 'measure' | 'enforce';

/** A token bucket of cost points. */
export interface BudgetPolicy {
  /** Most points a client can hold (and spend in a burst). */
  readonly capacity: number;
  /** Points given back per second, up to `capacity`. May be fractional. */
  readonly refillPerSecond: number;
}

/** Query-cost analysis and per-client budgets (README "Query cost and rate limits"). */
export interface CostConfig {
  /** `COST_MODE`. Default `enforce` (README "Query cost and rate limits" says why). */
  readonly mode: CostMode;
  /** `COST_MAX`: largest estimated cost of one operation. Default 25000. */
  readonly maxCost: number;
  /** `COST_DEFAULT_LIST_SIZE`: assumed length of lists without `@listSize`. Default 10. */
  readonly defaultListSize: number;
  /** `COST_BUDGET_CAPACITY` and `COST_BUDGET_REFILL_PER_SECOND`. Defaults 100000 and 2000. */
  readonly budget: BudgetPolicy;
  /**
   * `COST_BUDGET_OVERRIDES`: budgets of particular clients, keyed by client
   * identity (`user:<id>`, `apikey:<sha256 of the key>`, `ip:<address>`).
   */
  readonly overrides: ReadonlyMap<string, BudgetPolicy>;
  /**
   * `COST_BUDGET_LEASE_PERCENT`: with Redis, each gateway instance takes a
   * client's points from the shared bucket this share of the capacity at a
   * time (or the operation's cost, if more) and spends them locally. Default 1.
   */
  readonly leasePercent: number;
  /** `COST_BUDGET_LEASE_MS`: an unspent lease goes back to the shared bucket after this long. Default 1000. */
  readonly leaseMs: number;
}

export const COST_DEFAULTS = Object.freeze({
  mode: 'enforce' as CostMode,
  maxCost: 25_000,
  defaultListSize: 10,
  budgetCapacity: 100_000,
  budgetRefillPerSecond: 2_000,
  leasePercent: 1,
  leaseMs: 1000,
});

const MODES: readonly CostMode[] = ['off', 'measure', 'enforce'];
const MAX_POINTS = 1_000_000_000;

function positiveNumber(name: string, raw: string, shown = raw): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_POINTS) {
    throw new ConfigError(`${name} must be a number > 0, got ${JSON.stringify(shown)}`);
  }
  return value;
}

const OVERRIDE = /^(user|apikey|ip):(.+)=(\d+)\/([0-9.]+)$/;

/**
 * Parses `client=capacity/refillPerSecond,…`, e.g.
 * `apikey:partner-a=500000/10000,user:usr_42=200000/4000` (`apikey:` names a key of `API_KEYS`).
 */
export function parseBudgetOverrides(raw: string | undefined): ReadonlyMap<string, BudgetPolicy> {
  const overrides = new Map<string, BudgetPolicy>();
  for (const entry of (raw ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = OVERRIDE.exec(trimmed);
    const shown = trimmed;
    if (!match) {
      throw new ConfigError(
        `COST_BUDGET_OVERRIDES entries must look like user:<id>=<capacity>/<refillPerSecond> (or apikey:, ip:), got ${JSON.stringify(shown)}`,
      );
    }
    const [, kind, id, capacity, refill] = match as unknown as [string, string, string, string, string];
    const client = `${kind}:${id}`;
    if (overrides.has(client)) throw new ConfigError(`COST_BUDGET_OVERRIDES names ${JSON.stringify(shown)} twice`);
    overrides.set(
      client,
      Object.freeze({
        capacity: positiveNumber('COST_BUDGET_OVERRIDES capacity', capacity, shown),
        refillPerSecond: positiveNumber('COST_BUDGET_OVERRIDES refill', refill, shown),
      }),
    );
  }
  return overrides;
}

/** Reads the cost configuration; throws ConfigError naming the variable on a bad value. */
export function loadCostConfig(env: Env): CostConfig {
  const mode = stringVar(env, 'COST_MODE', COST_DEFAULTS.mode) as CostMode;
  if (!MODES.includes(mode))
    throw new ConfigError(`COST_MODE must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const maxCost = intVar(env, 'COST_MAX', COST_DEFAULTS.maxCost, { min: 1, max: MAX_POINTS });
  const refill = optionalVar(env, 'COST_BUDGET_REFILL_PER_SECOND');
  const budget = Object.freeze({
    capacity: intVar(env, 'COST_BUDGET_CAPACITY', COST_DEFAULTS.budgetCapacity, { min: 1, max: MAX_POINTS }),
    refillPerSecond:
      refill === undefined
        ? COST_DEFAULTS.budgetRefillPerSecond
        : positiveNumber('COST_BUDGET_REFILL_PER_SECOND', refill),
  });
  const overrides = parseBudgetOverrides(env.COST_BUDGET_OVERRIDES);
  const lease = optionalVar(env, 'COST_BUDGET_LEASE_PERCENT');
  const leasePercent =
    lease === undefined ? COST_DEFAULTS.leasePercent : positiveNumber('COST_BUDGET_LEASE_PERCENT', lease);
  if (leasePercent > 50)
    throw new ConfigError(`COST_BUDGET_LEASE_PERCENT must be at most 50, got ${JSON.stringify(lease)}`);
  if (mode === 'enforce') {
    // An operation allowed by COST_MAX must fit in every bucket, or its client could never run it.
    for (const [client, policy] of [['COST_BUDGET_CAPACITY', budget] as const, ...overrides]) {
      if (policy.capacity < maxCost) {
        const name = client === 'COST_BUDGET_CAPACITY' ? client : `COST_BUDGET_OVERRIDES (${client})`;
        throw new ConfigError(
          `${name} capacity ${policy.capacity} is below COST_MAX ${maxCost}; raise it or lower COST_MAX`,
        );
      }
    }
  }
  return Object.freeze({
    mode,
    maxCost,
    defaultListSize: intVar(env, 'COST_DEFAULT_LIST_SIZE', COST_DEFAULTS.defaultListSize, { min: 0, max: 10_000 }),
    budget,
    overrides,
    leasePercent,
    leaseMs: intVar(env, 'COST_BUDGET_LEASE_MS', COST_DEFAULTS.leaseMs, { min: 10, max: 600_000 }),
  });
}
