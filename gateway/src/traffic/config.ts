import { ConfigError, intVar, optionalVar, type Env } from '@commerce/common';

/** The policies of one subgraph. Each has a `SUBGRAPH_*` default and a `SUBGRAPH_*_OVERRIDES=name=value,…` per subgraph. */
export interface SubgraphPolicyConfig {
  /** `SUBGRAPH_TIMEOUT_MS`: budget of one attempt, response body included. Default 10000. */
  readonly timeoutMs: number;
  /** `SUBGRAPH_MAX_CONCURRENCY`: calls in flight at once; more wait in the queue. Default 100. */
  readonly maxConcurrency: number;
  /** `SUBGRAPH_MAX_QUEUE`: calls waiting for a slot (until the request deadline); more are refused. Default 1000. */
  readonly maxQueue: number;
  /** `SUBGRAPH_RETRIES`: retries of a query after a connection failure or HTTP 502/503/504 (0 = none). Default 2. */
  readonly retries: number;
  /** `SUBGRAPH_BREAKER_FAILURES`: consecutive failed calls that open the circuit. Default 5. */
  readonly breakerFailures: number;
  /** `SUBGRAPH_BREAKER_HALF_OPEN_MS`: how long an open circuit refuses calls before one probe may pass. Default 1000. */
  readonly halfOpenAfterMs: number;
}

/** Traffic shaping between the gateway and its subgraphs (README "Failure behaviour: subgraphs"). */
export interface SubgraphTrafficConfig {
  /** Policies of every subgraph not overridden. */
  readonly defaults: SubgraphPolicyConfig;
  /** Per-subgraph overrides, from the `*_OVERRIDES` variables. */
  readonly overrides: Readonly<Record<string, Partial<SubgraphPolicyConfig>>>;
  /**
   * `GATEWAY_REQUEST_TIMEOUT_MS`: deadline of one client request; a subgraph
   * call that would outlive it is cut (or never started) with GATEWAY_TIMEOUT.
   * Default: the largest subgraph timeout + 2000.
   */
  readonly requestTimeoutMs: number;
  /** `SUBGRAPH_RETRY_BACKOFF_MS`: first retry delay; it grows exponentially (capped at 8×) with decorrelated jitter. Default 50. */
  readonly retryBackoffMs: number;
  /** `SUBGRAPH_RETRY_BUDGET_PERCENT`: retries allowed per 100 calls, per subgraph. Default 10. */
  readonly retryBudgetPercent: number;
  /** `SUBGRAPH_RETRY_BUDGET_BURST`: retries allowed before any call has earned them (and the budget's cap). Default 10. */
  readonly retryBudgetBurst: number;
}

export const SUBGRAPH_TRAFFIC_DEFAULTS: SubgraphPolicyConfig = Object.freeze({
  timeoutMs: 10_000,
  maxConcurrency: 100,
  maxQueue: 1000,
  retries: 2,
  breakerFailures: 5,
  halfOpenAfterMs: 1000,
});

/** Each per-subgraph setting: its variable and accepted range. */
const POLICY_VARIABLES: Readonly<Record<keyof SubgraphPolicyConfig, { name: string; min: number; max: number }>> = {
  timeoutMs: { name: 'SUBGRAPH_TIMEOUT_MS', min: 1, max: 600_000 },
  maxConcurrency: { name: 'SUBGRAPH_MAX_CONCURRENCY', min: 1, max: 100_000 },
  maxQueue: { name: 'SUBGRAPH_MAX_QUEUE', min: 0, max: 1_000_000 },
  retries: { name: 'SUBGRAPH_RETRIES', min: 0, max: 10 },
  breakerFailures: { name: 'SUBGRAPH_BREAKER_FAILURES', min: 1, max: 10_000 },
  halfOpenAfterMs: { name: 'SUBGRAPH_BREAKER_HALF_OPEN_MS', min: 10, max: 600_000 },
};

const SUBGRAPH_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses `name=integer,name=integer` (the variable `variable`) into overrides of `key`. */
function parseOverrides(
  env: Env,
  key: keyof SubgraphPolicyConfig,
  into: Record<string, Partial<Record<keyof SubgraphPolicyConfig, number>>>,
): void {
  const { name: base, min, max } = POLICY_VARIABLES[key];
  const variable = `${base}_OVERRIDES`;
  for (const entry of (optionalVar(env, variable) ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = /^([^=]+)=\s*(-?\d+)$/.exec(trimmed);
    const subgraph = match?.[1]?.trim() ?? '';
    const value = Number(match?.[2]);
    if (!match || !SUBGRAPH_NAME.test(subgraph))
      throw new ConfigError(`${variable} entries must look like subgraph=integer, got ${JSON.stringify(trimmed)}`);
    if (value < min || value > max)
      throw new ConfigError(`${variable} value for ${subgraph} must be between ${min} and ${max}, got ${value}`);
    const overrides = (into[subgraph] ??= {});
    if (overrides[key] !== undefined) throw new ConfigError(`${variable} names ${JSON.stringify(subgraph)} twice`);
    overrides[key] = value;
  }
}

/** Reads the subgraph traffic settings; throws ConfigError naming the variable on a bad value. */
export function loadSubgraphTrafficConfig(env: Env): SubgraphTrafficConfig {
  const defaults = {} as Record<keyof SubgraphPolicyConfig, number>;
  const overrides: Record<string, Partial<Record<keyof SubgraphPolicyConfig, number>>> = {};
  for (const key of Object.keys(POLICY_VARIABLES) as (keyof SubgraphPolicyConfig)[]) {
    const { name, min, max } = POLICY_VARIABLES[key];
    defaults[key] = intVar(env, name, SUBGRAPH_TRAFFIC_DEFAULTS[key], { min, max });
    parseOverrides(env, key, overrides);
  }
  const longestTimeout = Math.max(defaults.timeoutMs, ...Object.values(overrides).map((o) => o.timeoutMs ?? 0));
  for (const value of Object.values(overrides)) Object.freeze(value);
  return Object.freeze({
    defaults: Object.freeze(defaults),
    overrides: Object.freeze(overrides),
    requestTimeoutMs: intVar(env, 'GATEWAY_REQUEST_TIMEOUT_MS', longestTimeout + 2000, { min: 1, max: 600_000 }),
    retryBackoffMs: intVar(env, 'SUBGRAPH_RETRY_BACKOFF_MS', 50, { min: 1, max: 60_000 }),
    retryBudgetPercent: intVar(env, 'SUBGRAPH_RETRY_BUDGET_PERCENT', 10, { min: 0, max: 100 }),
    retryBudgetBurst: intVar(env, 'SUBGRAPH_RETRY_BUDGET_BURST', 10, { min: 0, max: 100_000 }),
  });
}

/** The policies of subgraph `name`: its overrides over the defaults. */
export function policyOf(config: SubgraphTrafficConfig, name: string): SubgraphPolicyConfig {
  const overrides = Object.hasOwn(config.overrides, name) ? config.overrides[name] : undefined;
  return overrides ? { ...config.defaults, ...overrides } : config.defaults;
}
