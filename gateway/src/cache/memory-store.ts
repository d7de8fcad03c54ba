import { LRUCache } from 'lru-cache';
import type { ResponseCacheStore } from './store';
import { TaggedLru } from './tagged-lru';

interface Entry {
  value: string;
  tags: readonly string[];
}

/** In-process store (used when no REDIS_URL is set): a tagged LRU bounded in bytes. */
export function createMemoryStore({
  maxBytes,
  maxTtlSeconds,
}: {
  maxBytes: number;
  maxTtlSeconds: number;
}): ResponseCacheStore {
  const entries = new TaggedLru<Entry>(maxBytes, (entry) => entry.value.length);
  const invalidatedAt = new LRUCache<string, number>({ max: 100_000, ttl: maxTtlSeconds * 1000 });

  const dropTags = (tags: Iterable<string>): number => {
    const now = Date.now();
    const list = [...tags];
    for (const tag of list) invalidatedAt.set(tag, now);
    return entries.dropTags(list);
  };

  return {
    async getMany(keys) {
      return keys.map((key) => entries.get(key)?.value);
    },
    async set(key, value, ttlSeconds, tags, computedSince) {
      const stale = tags.some((tag) => {
        const at = invalidatedAt.get(tag);
        return at !== undefined && at >= computedSince;
      });
      return !stale && entries.set(key, { value, tags }, ttlSeconds * 1000);
    },
    async invalidate(tags) {
      return dropTags(tags);
    },
    async invalidateTypes(types) {
      return dropTags(entries.tagsOfTypes(types));
    },
    async clear() {
      const size = entries.size;
      entries.clear();
      return size;
    },
    async close() {
      entries.clear();
    },
  };
}
