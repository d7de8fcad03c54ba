import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, getVariableValues, type GraphQLFormattedError } from 'graphql';
// Execution's own field collection: @skip/@include and type conditions applied, each fragment visited once.
import { collectFields } from 'graphql/execution/collectFields.js';
import { Counter, type Registry } from 'prom-client';
import { CommerceError, type Logger, type RedisClient } from '@commerce/common';
import type { GatewayContext } from '../../context';
import type { CacheHit } from '../feature';
import type { FieldRateLimit } from '../../limits/config';
import {
  FieldRateRedisStore,
  createFieldRateLimiter,
  type FieldRateGrant,
  type FieldRateLimiter,
} from '../../limits/field-rate-limiter';
import { redisReady } from '../../limits/redis';
import { clientIdentity, type Principal } from '../../principal';

/** Options of {@link createFieldRateLimits}. */
export interface FieldRateLimitPluginOptions {
  /** `FIELD_RATE_LIMITS` (`loadFieldRateLimits`). With none the plugin does nothing. */
  limits: readonly FieldRateLimit[];
  /** The gateway's shared Redis (`REDIS_URL`): call counts shared by every instance using it; not closed here. Default: in process. */
  redis?: RedisClient;
  /** `REDIS_KEY_PREFIX`. Default `commerce:`. */
  keyPrefix?: string;
  /** The gateway's Prometheus registry. */
  registry: Registry;
  logger: Logger;
}

/** The field rate limits' hooks: the operation plugin and the checks of a cache hit. */
export interface FieldRateLimits {
  plugin: ApolloServerPlugin<GatewayContext>;
  checkHit(hit: CacheHit): Promise<void> | undefined;
  answeredHit(hit: CacheHit, refusal: CommerceError | undefined): Promise<void>;
}

/** Codes of failures that are ours, not the client's: a call that ended in one was not served and is given back. */
const OUR_FAULTS: ReadonlySet<string> = new Set([
  'SUBGRAPH_UNAVAILABLE',
  'GATEWAY_TIMEOUT',
  'SERVICE_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
]);

/** True when an error says the root field at `key` (or the whole request) failed for a fault of ours. */
function failedOnUs(error: GraphQLFormattedError, key: string): boolean {
  const code = error.extensions?.code;
  if (typeof code !== 'string' || !OUR_FAULTS.has(code)) return false;
  return error.path === undefined || (error.path.length === 1 && error.path[0] === key);
}

function identityFor(limit: FieldRateLimit, principal: Principal): string {
  return limit.identity === 'ip' ? `ip:${principal.clientIp ?? 'unknown'}` : clientIdentity(principal);
}

/**
 * Field-level rate limits (graphql-rate-limit, counts in Redis when
 * `redisUrl` is set): each call of a limited root field, e.g. `placeOrder`
 * per principal or `createUser` per IP, is counted before planning; one over
 * the limit refuses the operation with RATE_LIMITED (HTTP 429, `Retry-After`).
 * Root fields are collected the way execution collects them (one call per
 * response key, each fragment visited once), so the work is linear in the
 * document. A counted call that is then not executed (the operation refused
 * by another limit) or fails for a fault of ours (SUBGRAPH_UNAVAILABLE,
 * INTERNAL_SERVER_ERROR…) is given back. If the store fails, calls are let
 * through and logged. A cache hit counts the root fields its entry recorded,
 * Query fields as much as mutations.
 */
export function createFieldRateLimits(options: FieldRateLimitPluginOptions): FieldRateLimits {
  const { limits, logger } = options;
  const byField = new Map(limits.map((l) => [`${l.typeName}.${l.fieldName}`, l]));
  const limited = new Counter({
    name: 'gateway_field_rate_limited_total',
    help: 'Operations refused by a field rate limit (FIELD_RATE_LIMITS), by field',
    labelNames: ['field'] as const,
    registers: [options.registry],
  });
  const failures = new Counter({
    name: 'gateway_field_rate_limit_errors_total',
    help: 'Field rate limit store failures (Redis down…); the call is let through',
    registers: [options.registry],
  });
  let limiter: FieldRateLimiter | undefined;
  /** Calls a cache hit counted, given back if a later policy refuses the hit. */
  const hitGrants = new WeakMap<CacheHit, FieldRateGrant[]>();

  function giveBack(current: FieldRateLimiter, grant: FieldRateGrant): Promise<void> {
    return current.giveBack(grant).catch((error: unknown) => {
      failures.inc();
      logger.warn(
        { err: error, field: grant.limit.fieldName },
        'field rate limit store failed; a call not served stays counted',
      );
    });
  }

  /** Counts one call; the grant, or the refusal to throw. */
  async function count(
    current: FieldRateLimiter,
    limit: FieldRateLimit,
    principal: Principal,
  ): Promise<FieldRateGrant | CommerceError | undefined> {
    let verdict;
    try {
      verdict = await current.check(limit, identityFor(limit, principal));
    } catch (error) {
      failures.inc();
      logger.warn({ err: error, field: limit.fieldName }, 'field rate limit store failed; letting the call through');
      return undefined;
    }
    if (verdict.allowed) return verdict.grant;
    const field = `${limit.typeName}.${limit.fieldName}`;
    limited.inc({ field });
    const retryAfter = verdict.retryAfterSeconds;
    return new CommerceError('RATE_LIMITED', verdict.message, {
      extensions: { rateLimit: { field, max: limit.max, window: limit.windowMs / 1000, retryAfter } },
    });
  }

  async function countHit(hit: CacheHit, current: FieldRateLimiter, fields: FieldRateLimit[]): Promise<void> {
    const grants: FieldRateGrant[] = [];
    for (const limit of fields) {
      const result = await count(current, limit, hit.context.principal);
      if (result instanceof CommerceError) {
        await Promise.all(grants.map((grant) => giveBack(current, grant)));
        hit.headers['retry-after'] = String((result.extensions.rateLimit as { retryAfter: number }).retryAfter);
        throw result;
      }
      if (result) grants.push(result);
    }
    hitGrants.set(hit, grants);
  }

  function checkHit(hit: CacheHit): Promise<void> | undefined {
    if (!limiter) return undefined;
    const limitedFields = hit.facts.rootFields.flatMap((field) => byField.get(field) ?? []);
    return limitedFields.length === 0 ? undefined : countHit(hit, limiter, limitedFields);
  }

  async function answeredHit(hit: CacheHit, refusal: CommerceError | undefined): Promise<void> {
    const grants = hitGrants.get(hit);
    if (refusal && grants && limiter) await Promise.all(grants.map((grant) => giveBack(limiter!, grant)));
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async serverWillStart() {
      if (limits.length === 0) return;
      const { redis } = options;
      if (redis) await redisReady(redis);
      limiter = createFieldRateLimiter(
        redis ? new FieldRateRedisStore(redis, options.keyPrefix ?? 'commerce:') : undefined,
      );
    },

    async requestDidStart({ contextValue }) {
      if (!limiter) return;
      const current: FieldRateLimiter = limiter;
      let retryAfter: number | undefined;
      /** Counted calls, by response key. */
      const grants: Array<{ key: string; grant: FieldRateGrant }> = [];
      let executed = false;
      let counting: Promise<void> | undefined;

      async function countCalls({
        operation,
        document,
        schema,
        request,
      }: GraphQLRequestContextDidResolveOperation<GatewayContext>): Promise<void> {
        const rootType = operation && schema.getRootType(operation.operation);
        if (!operation || !rootType) return;
        const { coerced } = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, {
          maxErrors: 1,
        });
        // Invalid variables: execution refuses them before calling any subgraph.
        if (!coerced) return;
        const fragments = Object.fromEntries(
          document.definitions.flatMap((d) =>
            d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
          ),
        );
        for (const [key, [field]] of collectFields(schema, fragments, coerced, rootType, operation.selectionSet)) {
          const limit = field && byField.get(`${rootType.name}.${field.name.value}`);
          if (!limit) continue;
          const result = await count(current, limit, contextValue.principal);
          if (result instanceof CommerceError) {
            retryAfter = (result.extensions.rateLimit as { retryAfter: number }).retryAfter;
            throw result;
          }
          if (result) grants.push({ key, grant: result });
        }
      }

      return {
        didResolveOperation(requestContext) {
          return (counting = countCalls(requestContext));
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse({ response }) {
          if (retryAfter !== undefined) response.http.headers.set('retry-after', String(retryAfter));
          // Another plugin may have refused the operation while the calls were still being counted.
          await counting?.catch(() => undefined);
          if (grants.length === 0) return;
          const errors =
            response.body.kind === 'single'
              ? (response.body.singleResult.errors ?? [])
              : (response.body.initialResult.errors ?? []);
          for (const { key, grant } of grants) {
            if (executed && !errors.some((e) => failedOnUs(e, key))) continue;
            await giveBack(current, grant);
          }
        },
      };
    },
  };
  return { plugin, checkHit, answeredHit };
}
