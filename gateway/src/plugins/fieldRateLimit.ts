import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  getVariableValues,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { Counter, type Registry } from 'prom-client';
import { CommerceError, type Logger, type RedisClient } from '@commerce/common';
import type { GatewayContext } from '../context';
import type { FieldRateLimit } from '../limits/config';
import { FieldRateRedisStore, createFieldRateLimiter, type FieldRateLimiter } from '../limits/fieldRateLimiter';
import { redisReady } from '../limits/redis';
import { clientIdentity, type Principal } from '../principal';

/** Options of {@link createFieldRateLimitPlugin}. */
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

/** Root fields an operation will execute, with `@skip`/`@include` applied and fragments expanded. */
function rootFields(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, variables: Record<string, unknown>): FieldNode[] {
  const fields: FieldNode[] = [];
  const visit = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if === true) continue;
      if (getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if === false) continue;
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  visit(selectionSet);
  return fields;
}

function identityFor(limit: FieldRateLimit, principal: Principal): string {
  return limit.identity === 'ip' ? `ip:${principal.clientIp ?? 'unknown'}` : clientIdentity(principal);
}

/**
 * Field-level rate limits (graphql-rate-limit, counts in Redis when
 * `redisUrl` is set): each call of a limited root field, e.g. `placeOrder`
 * per principal or `createUser` per IP, is counted before planning; one over
 * the limit refuses the operation with RATE_LIMITED (HTTP 429, `Retry-After`).
 * If the store fails, calls are let through and logged.
 */
export function createFieldRateLimitPlugin(options: FieldRateLimitPluginOptions): ApolloServerPlugin<GatewayContext> {
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

  return {
    async serverWillStart() {
      if (limits.length === 0) return;
      const { redis } = options;
      if (redis) await redisReady(redis);
      limiter = createFieldRateLimiter(redis ? new FieldRateRedisStore(redis, options.keyPrefix ?? 'commerce:') : undefined);
    },

    async requestDidStart({ contextValue }) {
      const current = limiter;
      if (!current || contextValue.warmup) return;
      let retryAfter: number | undefined;
      return {
        async didResolveOperation({ operation, document, schema, request }) {
          const rootType = operation && schema.getRootType(operation.operation);
          if (!operation || !rootType) return;
          const { coerced } = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 1 });
          // Invalid variables: execution refuses them before calling any subgraph.
          if (!coerced) return;
          const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
          for (const field of rootFields(operation.selectionSet, fragments, coerced)) {
            const limit = byField.get(`${rootType.name}.${field.name.value}`);
            if (!limit) continue;
            let verdict;
            try {
              verdict = await current.check(limit, identityFor(limit, contextValue.principal));
            } catch (error) {
              failures.inc();
              logger.warn({ err: error, field: field.name.value }, 'field rate limit store failed; letting the call through');
              continue;
            }
            if (verdict.allowed) continue;
            limited.inc({ field: `${limit.typeName}.${limit.fieldName}` });
            retryAfter = verdict.retryAfterSeconds;
            throw new CommerceError('RATE_LIMITED', verdict.message, {
              extensions: { rateLimit: { field: `${limit.typeName}.${limit.fieldName}`, max: limit.max, window: limit.windowMs / 1000, retryAfter } },
            });
          }
        },
        async willSendResponse({ response }) {
          if (retryAfter !== undefined) response.http.headers.set('retry-after', String(retryAfter));
        },
      };
    },
  };
}
