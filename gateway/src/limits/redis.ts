import { createRedis, type Logger, type RedisClient } from '@commerce/common';

/** How long a starting gateway waits for Redis before going on without it (it keeps reconnecting). */
const READY_TIMEOUT_MS = 2_000;

/**
 * A Redis client for a limiter, connected before the first request when
 * Redis answers within {@link READY_TIMEOUT_MS}. Limiters let traffic
 * through while Redis is away (see createRedis), so not waiting would only
 * leave the first requests unaccounted.
 */
export async function connectLimiterRedis(url: string, logger: Logger, purpose: string): Promise<RedisClient> {
  const redis = createRedis(url, logger, purpose);
  if (redis.status === 'ready') return redis;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, READY_TIMEOUT_MS);
    function done(): void {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
    redis.once('ready', done);
  });
  return redis;
}
