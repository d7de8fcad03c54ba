import type { RedisClient } from '@commerce/common';
import type { ResponseCacheStore } from './store';

/**
 * Redis store shared by every gateway instance: an entry is a string key with
 * a TTL; each entity tag is a set of entry keys; `i:<tag>` remembers when the
 * tag was last invalidated, so a response computed before a mutation is never
 * stored after it. Commands are issued one by one (auto-pipelined by ioredis),
 * so the same code works on a Redis Cluster, where keys live on many nodes.
 */
export function createRedisStore(
  redis: RedisClient,
  { prefix, maxTtlSeconds }: { prefix: string; maxTtlSeconds: number },
): ResponseCacheStore {
  const entryKey = (key: string) => `${prefix}r:${key}`;
  const tagKey = (tag: string) => `${prefix}t:${tag}`;
  const invalidatedKey = (tag: string) => `${prefix}i:${tag}`;
  const lifetimeMs = maxTtlSeconds * 1000;

  async function dropTags(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return 0;
    const now = String(Date.now());
    const members = await Promise.all(
      tags.map(async (tag) => {
        await redis.set(invalidatedKey(tag), now, 'PX', lifetimeMs);
        return redis.smembers(tagKey(tag));
      }),
    );
    const keys = [...new Set(members.flat())];
    const removed = await Promise.all(keys.map((key) => redis.unlink(key)));
    await Promise.all(tags.map((tag) => redis.unlink(tagKey(tag))));
    return removed.reduce((n, r) => n + r, 0);
  }

  /** Keys matching a pattern on every master node (one node unless clustered). */
  async function scan(pattern: string): Promise<string[]> {
    const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
    const found: string[] = [];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
    }
    return found;
  }

  return {
    async getMany(keys) {
      const values = await Promise.all(keys.map((key) => redis.get(entryKey(key))));
      return values.map((v) => v ?? undefined);
    },
    async set(key, value, ttlSeconds, tags, computedSince) {
      if (tags.length) {
        const stamps = await Promise.all(tags.map((tag) => redis.get(invalidatedKey(tag))));
        if (stamps.some((stamp) => stamp !== null && Number(stamp) >= computedSince)) return false;
      }
      const stored = entryKey(key);
      await redis.set(stored, value, 'EX', ttlSeconds);
      // Tag sets live as long as the longest entry can, so they never outlive the need.
      await Promise.all(
        tags.map(async (tag) => {
          await redis.sadd(tagKey(tag), stored);
          await redis.pexpire(tagKey(tag), lifetimeMs);
        }),
      );
      return true;
    },
    invalidate: dropTags,
    async invalidateTypes(types) {
      const tagKeys = (await Promise.all(types.map((type) => scan(`${tagKey(type)}:*`)))).flat();
      return dropTags(tagKeys.map((k) => k.slice(`${prefix}t:`.length)));
    },
    async clear() {
      const keys = await scan(`${prefix}*`);
      await Promise.all(keys.map((key) => redis.unlink(key)));
      return keys.filter((key) => key.startsWith(`${prefix}r:`)).length;
    },
    async close() {},
  };
}
