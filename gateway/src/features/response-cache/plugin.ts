import {
  HeaderMap,
  type ApolloServerPlugin,
  type GraphQLRequestContextWillSendResponse,
  type GraphQLResponse,
} from '@apollo/server';
import type { Logger } from '@commerce/common';
import type { ResponseCacheConfig } from '../../config';
import type { GatewayContext } from '../../context';
import { cacheKey, type CacheScope } from '../../cache/key';
import type { ResponseCacheStore } from '../../cache/store';
import type { GatewayMetrics } from '../../metrics';
import type { CacheEntryInfo, HotPath } from '../../cache/hot-path';
import { operationFacts } from '../operation-facts';

/** Options of {@link createResponseCachePlugin}. */
export interface ResponseCachePluginOptions {
  store: ResponseCacheStore;
  config: ResponseCacheConfig;
  metrics: Pick<GatewayMetrics, 'responseCache' | 'responseCacheInvalidations' | 'responseCacheErrors'>;
  logger: Logger;
  /** The in-memory hot path, told about every invalidation. */
  hotPath?: Pick<HotPath, 'invalidate'>;
}

/** The response header telling what the cache did. */
export const CACHE_STATUS_HEADER = 'x-cache';
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

interface StoredEntry extends CacheEntryInfo {
  data: unknown;
}

/**
 * The principal a PRIVATE entry belongs to, if the request has one: the
 * verified user with their scopes (an admin token and a plain token of the
 * same user may see different data), else a known API key, else the
 * anonymous session.
 */
function principalOf(context: GatewayContext): string | undefined {
  const { userId, apiKeyName, scopes, sessionId } = context.principal;
  if (userId !== undefined) return `user:${userId}|${scopes.join(' ')}`;
  if (apiKeyName !== undefined) return `apikey:${apiKeyName}|${scopes.join(' ')}`;
  return sessionId !== undefined ? `session:${sessionId}` : undefined;
}

/**
 * Whole-response cache for queries. Entries are keyed by document, operation,
 * variables and scope (PUBLIC, or PRIVATE per principal), live as long as the
 * subgraphs' cache hints allow (capped), and are tagged with the entities they
 * contain; a mutation that changes an entity drops every entry tagged with it.
 * When the store fails, requests are served uncached (BYPASS) and mutations'
 * invalidations are retried before anything is read from the cache again.
 */
export function createResponseCachePlugin({
  store,
  config,
  metrics,
  logger,
  hotPath,
}: ResponseCachePluginOptions): ApolloServerPlugin<GatewayContext> {
  // Invalidations that could not reach the store: until they do, the cache may hold stale entries, so it is not read.
  const pending = new Set<string>();
  let flushing: Promise<void> | undefined;

  function flushPending(): Promise<void> {
    flushing ??= (async () => {
      const tags = [...pending];
      try {
        const dropped = await store.invalidate(tags);
        for (const tag of tags) pending.delete(tag);
        metrics.responseCacheInvalidations.inc({ source: 'mutation' }, dropped);
        logger.info({ tags: tags.length, dropped }, 'response cache: delayed invalidations applied');
      } catch {
        // Still unreachable: stay in bypass and try again on the next request.
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  }

  async function invalidate(tags: string[]): Promise<void> {
    if (tags.length === 0) return;
    await hotPath?.invalidate({ tags });
    try {
      metrics.responseCacheInvalidations.inc({ source: 'mutation' }, await store.invalidate(tags));
    } catch (error) {
      metrics.responseCacheErrors.inc({ operation: 'invalidate' });
      logger.warn(
        { err: (error as Error).message, tags: tags.length },
        'response cache: invalidation failed; cache bypassed until it succeeds',
      );
      for (const tag of tags) pending.add(tag);
    }
  }

  async function write(
    requestContext: GraphQLRequestContextWillSendResponse<GatewayContext>,
    keys: { public: string; private?: string },
    startedAt: number,
  ): Promise<void> {
    const { response, overallCachePolicy, contextValue } = requestContext;
    if (response.body.kind !== 'single' || response.body.singleResult.errors?.length) return;
    const policy = overallCachePolicy.policyIfCacheable();
    if (!policy) return;
    const key = policy.scope === 'PRIVATE' ? keys.private : keys.public;
    if (key === undefined) return; // private data and nobody to key it by
    const maxAge = Math.min(policy.maxAge, config.maxTtlSeconds);
    const tags = [...contextValue.cacheTags.resolved];
    const entry: StoredEntry = {
      data: response.body.singleResult.data,
      maxAge,
      scope: policy.scope,
      storedAt: Date.now(),
      tags,
    };
    const value = JSON.stringify(entry);
    if (value.length > config.maxEntryBytes) return;
    try {
      if (await store.set(key, value, maxAge, tags, startedAt - config.invalidationGraceMs)) {
        const { data: _data, ...info } = entry;
        contextValue.outcome.cacheEntry = info;
      }
    } catch (error) {
      metrics.responseCacheErrors.inc({ operation: 'write' });
      logger.warn({ err: (error as Error).message }, 'response cache: write failed');
    }
  }

  return {
    async requestDidStart() {
      const startedAt = Date.now();
      let status: CacheStatus = 'BYPASS';
      let keys: { public: string; private?: string } | undefined;

      return {
        async responseForOperation(requestContext): Promise<GraphQLResponse | null> {
          const { queryHash } = requestContext;
          // Unresolved operations and subscriptions are refused before this; a missing operation is never cached.
          if (requestContext.operation?.operation !== 'query' || queryHash === undefined) return null;
          if (pending.size > 0) {
            await flushPending();
            if (pending.size > 0) return null;
          }
          const input = {
            schema: requestContext.schema,
            queryHash,
            operationName: requestContext.operationName,
            variables: requestContext.request.variables,
          };
          const principal = principalOf(requestContext.contextValue);
          keys = { public: cacheKey(input, { kind: 'PUBLIC' }) };
          if (principal) keys.private = cacheKey(input, { kind: 'PRIVATE', principal } satisfies CacheScope);
          let values: (string | undefined)[];
          try {
            values = await store.getMany(keys.private ? [keys.private, keys.public] : [keys.public]);
          } catch (error) {
            metrics.responseCacheErrors.inc({ operation: 'read' });
            logger.warn({ err: (error as Error).message }, 'response cache: read failed; serving uncached');
            keys = undefined;
            return null;
          }
          status = 'MISS';
          const found = values.find((v) => v !== undefined);
          if (found === undefined) return null;
          const entry = JSON.parse(found) as StoredEntry;
          const age = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
          status = 'HIT';
          requestContext.contextValue.outcome.cacheEntry = {
            maxAge: entry.maxAge,
            scope: entry.scope,
            storedAt: entry.storedAt,
            tags: entry.tags ?? [],
          };
          // Downstream caches may keep it only for what is left of its life.
          requestContext.overallCachePolicy.replace({ maxAge: Math.max(0, entry.maxAge - age), scope: entry.scope });
          return {
            http: { status: undefined, headers: new HeaderMap([['age', String(age)]]) },
            body: { kind: 'single', singleResult: { data: entry.data as Record<string, unknown> } },
          };
        },

        async willSendResponse(requestContext) {
          if (requestContext.operation?.operation === 'mutation')
            await invalidate([...requestContext.contextValue.cacheTags.invalidated]);
          else if (status === 'MISS' && keys) await write(requestContext, keys, startedAt);
          // Stored or served: what the policies check when the in-memory hot path answers it next time.
          if (requestContext.contextValue.outcome.cacheEntry)
            requestContext.contextValue.outcome.operation = operationFacts(requestContext);
          metrics.responseCache.inc({ result: status.toLowerCase() });
          requestContext.response.http.headers.set(CACHE_STATUS_HEADER, status);
        },
      };
    },
  };
}
