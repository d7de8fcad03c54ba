import { ErrorsAreMissesCache, InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Logger, RedisClient } from '@commerce/common';

/** Apollo's KeyValueCache over Redis: every gateway instance sees every registered query. */
class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly defaultTtlSeconds: number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const ttl = options?.ttl ?? this.defaultTtlSeconds;
    if (ttl) await this.redis.set(this.prefix + key, value, 'EX', ttl);
    else await this.redis.set(this.prefix + key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) > 0;
  }
}

/**
 * The APQ store: Redis when configured (a Redis failure reads as a miss, so
 * clients simply resend the full query), else in process.
 */
export function createApqCache(
  redis: RedisClient | undefined,
  prefix: string,
  ttlSeconds: number,
  logger: Logger,
): KeyValueCache<string> {
  if (!redis) return new InMemoryLRUCache<string>({ maxSize: 16 * 1024 * 1024 });
  return new ErrorsAreMissesCache(new RedisKeyValueCache(redis, `${prefix}apq:`, ttlSeconds), logger);
}
