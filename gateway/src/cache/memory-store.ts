import { LRUCache } from 'lru-cache';
import type { ResponseCacheStore } from './store';

interface Entry {
  value: string;
  tags: readonly string[];
}

/**
 * In-process store (used when no REDIS_URL is set): an LRU bounded in bytes,
 * with a tag → keys index kept in step with evictions.
 */
export function createMemoryStore({ maxBytes, maxTtlSeconds }: { maxBytes: number; maxTtlSeconds: number }): ResponseCacheStore {
  const byTag = new Map<string, Set<string>>();
  const invalidatedAt = new LRUCache<string, number>({ max: 100_000, ttl: maxTtlSeconds * 1000 });
  const entries = new LRUCache<string, Entry>({
    maxSize: maxBytes,
    sizeCalculation: (entry) => Math.max(1, entry.value.length),
    dispose: (entry, key) => {
      for (const tag of entry.tags) {
        const keys = byTag.get(tag);
        keys?.delete(key);
        if (keys?.size === 0) byTag.delete(tag);
      }
    },
  });

  const dropTags = (tags: Iterable<string>): number => {
    let dropped = 0;
    const now = Date.now();
    for (const tag of tags) {
      invalidatedAt.set(tag, now);
      for (const key of [...(byTag.get(tag) ?? [])]) if (entries.delete(key)) dropped++;
      byTag.delete(tag);
    }
    return dropped;
  };

  return {
    async getMany(keys) {
      return keys.map((key) => entries.get(key)?.value);
    },
    async set(key, value, ttlSeconds, tags, computedSince) {
      if (tags.some((tag) => {
        const at = invalidatedAt.get(tag);
        return at !== undefined && at >= computedSince;
      })) return false;
      entries.set(key, { value, tags }, { ttl: ttlSeconds * 1000 });
      if (!entries.has(key)) return false; // larger than the whole cache
      for (const tag of tags) {
        let keys = byTag.get(tag);
        if (!keys) byTag.set(tag, (keys = new Set()));
        keys.add(key);
      }
      return true;
    },
    async invalidate(tags) {
      return dropTags(tags);
    },
    async invalidateTypes(types) {
      return dropTags([...byTag.keys()].filter((tag) => types.some((type) => tag.startsWith(`${type}:`))));
    },
    async clear() {
      const size = entries.size;
      entries.clear();
      byTag.clear();
      return size;
    },
    async close() {
      entries.clear();
    },
  };
}
