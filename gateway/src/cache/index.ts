import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger, RedisClient } from '@commerce/common';
import type { GatewayConfig } from '../config';
import type { GatewayContext } from '../context';
import type { GatewayMetrics } from '../metrics';
import { createResponseCachePlugin } from '../plugins/responseCache';
import { createMemoryStore } from './memory-store';
import { PURGE_PATH, createPurgeRoute } from './purge';
import { createRedisStore } from './redis-store';

export interface ResponseCache {
  plugins: ApolloServerPlugin<GatewayContext>[];
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

/** The response cache as configured: Redis-backed when a client is given, in process otherwise; nothing when disabled. */
export function createResponseCache(config: GatewayConfig, redis: RedisClient | undefined, metrics: GatewayMetrics, logger: Logger): ResponseCache {
  const options = config.responseCache;
  if (!options.enabled) return { plugins: [], routes: {} };
  const store = redis
    ? createRedisStore(redis, { prefix: `${config.redisKeyPrefix}cache:`, maxTtlSeconds: options.maxTtlSeconds })
    : createMemoryStore({ maxBytes: options.memoryBytes, maxTtlSeconds: options.maxTtlSeconds });
  return {
    plugins: [createResponseCachePlugin({ store, config: options, metrics, logger })],
    routes: { [PURGE_PATH]: createPurgeRoute({ store, secret: options.purgeSecret, metrics, logger }) },
  };
}
