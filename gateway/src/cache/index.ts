import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompleteResponse, Logger, RawGraphQLRequest, RedisClient } from '@commerce/common';
import type { GatewayConfig } from '../config';
import type { GatewayContext } from '../context';
import type { GatewayMetrics } from '../metrics';
import { createResponseCachePlugin } from '../features/response-cache/plugin';
import { createHotPath } from './hot-path';
import { createMemoryStore } from './memory-store';
import { PURGE_PATH, createPurgeRoute } from './purge';
import { createRedisStore } from './redis-store';

export interface ResponseCache {
  plugins: ApolloServerPlugin<GatewayContext>[];
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
  /** The hot path's hooks for the HTTP layer (absent when it is off). */
  shortcut?: (req: IncomingMessage, res: ServerResponse, raw: RawGraphQLRequest) => boolean;
  onResponse?: (req: IncomingMessage, raw: RawGraphQLRequest, context: GatewayContext | undefined, response: CompleteResponse) => void;
  /** Forgets what the hot path holds (a new supergraph or manifest). */
  clearHotPath(): void;
  close(): void;
}

/**
 * The response cache as configured: Redis-backed when a client is given, in
 * process otherwise, with the in-memory hot path in front unless cost budgets
 * are enforced (every request must then go through the budget check).
 */
export function createResponseCache(config: GatewayConfig, redis: RedisClient | undefined, metrics: GatewayMetrics, logger: Logger): ResponseCache {
  const options = config.responseCache;
  if (!options.enabled) return { plugins: [], routes: {}, clearHotPath() {}, close() {} };
  const store = redis
    ? createRedisStore(redis, { prefix: `${config.redisKeyPrefix}cache:`, maxTtlSeconds: options.maxTtlSeconds })
    : createMemoryStore({ maxBytes: options.memoryBytes, maxTtlSeconds: options.maxTtlSeconds });
  const hotPath =
    options.hotPathBytes > 0 && config.cost.mode !== 'enforce'
      ? createHotPath({ maxBytes: options.hotPathBytes, redis, channel: `${config.redisKeyPrefix}cache:invalidations`, metrics, logger })
      : undefined;
  return {
    plugins: [createResponseCachePlugin({ store, config: options, metrics, logger, hotPath })],
    routes: { [PURGE_PATH]: createPurgeRoute({ store, secret: options.purgeSecret, metrics, logger, hotPath }) },
    shortcut: hotPath?.shortcut,
    onResponse: hotPath?.onResponse,
    clearHotPath: () => hotPath?.clear(),
    close: () => hotPath?.close(),
  };
}
