import type { RedisClient } from '@commerce/common';

/** How long a starting gateway waits for Redis before going on without it (the client keeps reconnecting). */
const READY_TIMEOUT_MS = 2_000;

/**
 * Waits (at most {@link READY_TIMEOUT_MS}) until the shared Redis client is
 * connected. Limiters let traffic through while Redis is away (the client
 * fails fast, see createRedis), so starting to serve before it is ready would
 * only leave the first requests unaccounted.
 */
export async function redisReady(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, READY_TIMEOUT_MS);
    function done(): void {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
    redis.once('ready', done);
  });
}
