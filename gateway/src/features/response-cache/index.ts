import type { Logger, RedisClient } from '@commerce/common';
import { createHotPath } from '../../cache/hot-path';
import { createMemoryStore } from '../../cache/memory-store';
import { PURGE_PATH, createPurgeRoute } from '../../cache/purge';
import { createRedisStore } from '../../cache/redis-store';
import type { GatewayConfig } from '../../config';
import type { GatewayMetrics } from '../../metrics';
import type { GatewayFeature } from '../feature';
import { createResponseCachePlugin } from './plugin';

/** Options of {@link useResponseCache}. */
export interface ResponseCacheOptions {
  /** `RESPONSE_CACHE_*`, `CACHE_PURGE_SECRET` (config.responseCache) and `REDIS_KEY_PREFIX`. */
  config: Pick<GatewayConfig, 'responseCache' | 'redisKeyPrefix'>;
  /** The gateway's shared Redis: entries and invalidations shared by every instance. Default: in process. */
  redis?: RedisClient;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** The response cache feature, and a way to forget what its hot path holds (a new supergraph or manifest). */
export interface ResponseCacheFeature extends GatewayFeature {
  clearHotPath(): void;
}

/**
 * The response cache: Redis-backed when a client is given, in process
 * otherwise, with the in-memory hot path in front. The hot path answers an
 * exact repeat without parsing or planning, after the policies of every
 * feature that runs on cache hits checked the facts its entry carries.
 */
export function useResponseCache({ config, redis, metrics, logger }: ResponseCacheOptions): ResponseCacheFeature {
  const options = config.responseCache;
  const base = { name: 'response-cache', onCacheHit: true, duringWarmup: false };
  if (!options.enabled) return { ...base, clearHotPath() {} };
  const store = redis
    ? createRedisStore(redis, { prefix: `${config.redisKeyPrefix}cache:`, maxTtlSeconds: options.maxTtlSeconds })
    : createMemoryStore({ maxBytes: options.memoryBytes, maxTtlSeconds: options.maxTtlSeconds });
  const channel = `${config.redisKeyPrefix}cache:invalidations`;
  const hotPath =
    options.hotPathBytes > 0
      ? createHotPath({ maxBytes: options.hotPathBytes, redis, channel, metrics, logger })
      : undefined;
  return {
    ...base,
    operation: createResponseCachePlugin({ store, config: options, metrics, logger, hotPath }),
    routes: { [PURGE_PATH]: createPurgeRoute({ store, secret: options.purgeSecret, metrics, logger, hotPath }) },
    lookup: hotPath?.lookup,
    onResponse: hotPath?.onResponse,
    clearHotPath: () => hotPath?.clear(),
    close: () => hotPath?.close(),
  };
}
