import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestContextWillSendResponse,
} from '@apollo/server';
import type { Registry } from 'prom-client';
import { CommerceError, type Logger, type RedisClient } from '@commerce/common';
import type { GatewayContext } from '../../context';
import { createMemoryBudgetStore, type BucketState, type BudgetStore } from '../../cost/bucket';
import type { CostConfig } from '../../cost/config';
import { createCostEstimator, type CostEstimator } from '../../cost/estimator';
import { policyHeader, rateLimitHeader, secondsUntil } from '../../cost/headers';
import { createCostMetrics } from '../../cost/metrics';
import { CostAnalysisError, type CostPlan } from '../../cost/plan';
import type { BudgetPolicy } from '../../cost/config';
import { createLeasedBudgetStore } from '../../cost/leased-budget';
import { createRedisBudgetStore } from '../../cost/redis-bucket';
import type { CacheHit } from '../feature';
import { redisReady } from '../../limits/redis';
import { clientIdentity } from '../../principal';

/** Request header asking for the cost report (`x-cost-estimated`/`x-cost-actual` headers and `extensions.cost`). */
export const COST_REPORT_HEADER = 'x-cost-report';

/** Options of {@link createCostLimits}. */
export interface CostLimitPluginOptions {
  /** Mode, maximum, list size and budgets (`loadCostConfig`). With mode `off` the plugin does nothing. */
  config: CostConfig;
  /** The gateway's shared Redis (`REDIS_URL`): budgets shared by every instance using it; not closed here. Default: in process. */
  redis?: RedisClient;
  /** `REDIS_KEY_PREFIX`. Default `commerce:`. */
  keyPrefix?: string;
  /** The gateway's Prometheus registry, for the series of {@link createCostMetrics}. */
  registry: Registry;
  logger: Logger;
  /** A budget store to use instead of Redis or memory (tests). Default none. */
  store?: BudgetStore;
}

/** What one operation was charged. */
interface Charge {
  estimator: CostEstimator;
  plan: CostPlan;
  variables: Readonly<Record<string, unknown>>;
  estimated: number;
  /** Points taken from the bucket (0 when the store failed). */
  taken: number;
}

const wantsReport = (value: string | undefined): boolean =>
  value !== undefined && value !== '' && value !== '0' && value !== 'false';

/** The cost limits' hooks: the operation plugin, and the checks of a cache hit from the entry's cost facts. */
export interface CostLimits {
  plugin: ApolloServerPlugin<GatewayContext>;
  checkHit(hit: CacheHit): Promise<void> | undefined;
}

/**
 * Query cost analysis and per-client cost budgets. Before any subgraph is
 * called (didResolveOperation) it estimates the operation from the
 * supergraph's `@cost`/`@listSize`, refuses it over `COST_MAX`
 * (COST_ESTIMATED_TOO_EXPENSIVE), and takes the estimate from the client's
 * token bucket (RATE_LIMITED, HTTP 429, `Retry-After`, when short). After
 * execution it measures the actual cost from the response and refunds the
 * difference. A cache hit is charged the same from the estimated and actual
 * cost its entry carries, without parsing. Every response carries
 * `RateLimit-Policy` and `RateLimit`. In `measure` mode nothing is refused.
 * Budget store failures let traffic through. With Redis, budgets are leased
 * (cost/leased-budget.ts): no round trip while the instance's lease lasts.
 */
export function createCostLimits(options: CostLimitPluginOptions): CostLimits {
  const { config, logger } = options;
  const enforce = config.mode === 'enforce';
  const metrics = createCostMetrics(options.registry);
  let store: BudgetStore | undefined;
  let estimator: CostEstimator | undefined;

  async function createStore(): Promise<BudgetStore> {
    if (options.store) return options.store;
    if (!options.redis) return createMemoryBudgetStore();
    await redisReady(options.redis);
    const shared = createRedisBudgetStore({ redis: options.redis, keyPrefix: options.keyPrefix ?? 'commerce:' });
    return createLeasedBudgetStore({ shared, leasePercent: config.leasePercent, leaseMs: config.leaseMs, logger });
  }

  async function guarded(operation: () => Promise<BucketState>): Promise<BucketState | undefined> {
    try {
      return await operation();
    } catch (error) {
      metrics.budgetErrors.inc();
      logger.warn({ err: error }, 'cost budget store failed; letting the operation through uncharged');
      return undefined;
    }
  }

  function budgetExceeded(estimated: number, bucket: BucketState, policy: BudgetPolicy): CommerceError {
    const retryAfter = secondsUntil(estimated, bucket.tokens, policy);
    const remaining = Math.floor(bucket.tokens);
    return new CommerceError(
      'RATE_LIMITED',
      `Cost budget exceeded: the operation costs ${estimated} points and ${remaining} are left; retry in ${retryAfter} s`,
      {
        extensions: {
          rateLimit: {
            policy: 'cost',
            remaining,
            reset: secondsUntil(policy.capacity, bucket.tokens, policy),
            retryAfter,
          },
          cost: { estimated },
        },
      },
    );
  }

  function setBudgetHeaders(
    headers: { set(name: string, value: string): unknown },
    policy: BudgetPolicy,
    bucket: BucketState | undefined,
    refused: number | undefined,
  ): void {
    headers.set('ratelimit-policy', policyHeader(policy));
    if (bucket) headers.set('ratelimit', rateLimitHeader(bucket.tokens, policy));
    if (refused !== undefined && bucket)
      headers.set('retry-after', String(secondsUntil(refused, bucket.tokens, policy)));
  }

  // Bound once: a hit observes both without hashing label sets.
  const observeEstimated = metrics.cost.labels({ kind: 'estimated' });
  const observeActual = metrics.cost.labels({ kind: 'actual' });

  /** A hit is charged its estimate, then refunded down to the actual cost its entry recorded. */
  async function chargeHit(
    hit: CacheHit,
    budgets: BudgetStore,
    cost: { estimated: number; actual: number },
  ): Promise<void> {
    const client = clientIdentity(hit.context.principal);
    const policy = config.overrides.get(client) ?? config.budget;
    const headers = { set: (name: string, value: string) => (hit.headers[name] = value) };
    let bucket = await guarded(() => budgets.take(client, cost.estimated, policy));
    if (bucket && !bucket.allowed) {
      metrics.exceeded.inc({ reason: 'budget', mode: config.mode });
      if (enforce) {
        setBudgetHeaders(headers, policy, bucket, cost.estimated);
        throw budgetExceeded(cost.estimated, bucket, policy);
      }
    }
    observeEstimated.observe(cost.estimated);
    observeActual.observe(cost.actual);
    const refund = cost.estimated - cost.actual;
    if (bucket?.allowed && refund > 0) bucket = await guarded(() => budgets.refund(client, refund, policy));
    setBudgetHeaders(headers, policy, bucket, undefined);
  }

  function checkHit(hit: CacheHit): Promise<void> | undefined {
    const cost = hit.facts.cost;
    // Off, not started, or an entry whose cost could not be analysed (let through uncharged, as on a miss).
    if (config.mode === 'off' || !store || !cost) return undefined;
    return chargeHit(hit, store, cost);
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async serverWillStart() {
      if (config.mode === 'off') return;
      const budgets = (store = await createStore());
      return {
        schemaDidLoadOrUpdate({ apiSchema, coreSupergraphSdl }) {
          try {
            estimator = createCostEstimator({
              schema: apiSchema,
              supergraphSdl: coreSupergraphSdl,
              defaultListSize: config.defaultListSize,
            });
          } catch (error) {
            logger.error(
              { err: error },
              'cannot read cost directives from the new supergraph; keeping the previous cost model',
            );
          }
        },
        async serverWillStop() {
          await budgets.close();
        },
      };
    },

    async requestDidStart({ contextValue }) {
      if (config.mode === 'off' || !store) return;
      const budgets: BudgetStore = store;
      const client = clientIdentity(contextValue.principal);
      const policy = config.overrides.get(client) ?? config.budget;
      let charge: Charge | undefined;
      let bucket: BucketState | undefined;
      let storeFailed = false;
      let refused: number | undefined;
      let deciding: Promise<void> | undefined;

      async function decide({
        document,
        operation,
        request,
      }: GraphQLRequestContextDidResolveOperation<GatewayContext>): Promise<void> {
        const current = estimator;
        if (!current || !operation) return;
        const variables = current.variables(operation, request.variables);
        // Invalid variables: execution refuses them before calling any subgraph.
        if (!variables) return;
        let plan: CostPlan;
        let estimated: number;
        try {
          plan = current.plan(document, operation);
          estimated = current.estimate(plan, variables);
        } catch (error) {
          if (!(error instanceof CostAnalysisError)) {
            // A fault of the cost model must not take traffic down with it.
            logger.error(
              { err: error, operationName: operation.name?.value },
              'cost analysis failed; letting the operation through uncharged',
            );
            return;
          }
          metrics.exceeded.inc({ reason: error.reason === 'slicing' ? 'slicing' : 'too_expensive', mode: config.mode });
          if (!enforce) return;
          if (error.reason === 'slicing') throw new CommerceError('BAD_USER_INPUT', error.message);
          throw new CommerceError('COST_ESTIMATED_TOO_EXPENSIVE', error.message, {
            extensions: { cost: { estimated: null, max: config.maxCost } },
          });
        }
        metrics.cost.observe({ kind: 'estimated' }, estimated);
        if (estimated > config.maxCost) {
          metrics.exceeded.inc({ reason: 'too_expensive', mode: config.mode });
          if (enforce) {
            throw new CommerceError(
              'COST_ESTIMATED_TOO_EXPENSIVE',
              `The operation's estimated cost ${estimated} exceeds the maximum of ${config.maxCost} (COST_MAX)`,
              {
                extensions: { cost: { estimated, max: config.maxCost } },
              },
            );
          }
        }
        bucket = await guarded(() => budgets.take(client, estimated, policy));
        storeFailed = bucket === undefined;
        charge = { estimator: current, plan, variables, estimated, taken: bucket?.allowed ? estimated : 0 };
        if (!bucket || bucket.allowed) return;
        metrics.exceeded.inc({ reason: 'budget', mode: config.mode });
        if (!enforce) return;
        refused = estimated;
        throw budgetExceeded(estimated, bucket, policy);
      }

      async function settle({
        response,
        request,
      }: GraphQLRequestContextWillSendResponse<GatewayContext>): Promise<void> {
        // didResolveOperation may still be charging if another plugin refused the operation first.
        await deciding?.catch(() => undefined);
        const body = response.body;
        let actual: number | undefined;
        if (charge && refused === undefined && body.kind === 'single') {
          actual = charge.estimator.actual(charge.plan, charge.variables, body.singleResult.data);
          metrics.cost.observe({ kind: 'actual' }, actual);
          contextValue.outcome.cost = { estimated: charge.estimated, actual };
          const refund = Math.min(charge.taken, charge.estimated - actual);
          if (refund > 0) bucket = await guarded(() => budgets.refund(client, refund, policy));
        }
        // Every response tells the client its budget, even one that charged nothing.
        if (!bucket && !storeFailed) bucket = await guarded(() => budgets.take(client, 0, policy));
        const headers = response.http.headers;
        setBudgetHeaders(headers, policy, bucket, refused);
        if (!wantsReport(request.http?.headers.get(COST_REPORT_HEADER))) return;
        if (charge) headers.set('x-cost-estimated', String(charge.estimated));
        if (actual !== undefined) headers.set('x-cost-actual', String(actual));
        if (body.kind === 'single') {
          const cost = {
            estimated: charge?.estimated ?? null,
            actual: actual ?? null,
            max: config.maxCost,
            mode: config.mode,
          };
          body.singleResult.extensions = { ...body.singleResult.extensions, cost };
        }
      }

      return {
        didResolveOperation(requestContext) {
          deciding = decide(requestContext);
          return deciding;
        },
        willSendResponse: settle,
      };
    },
  };
  return { plugin, checkHit };
}
