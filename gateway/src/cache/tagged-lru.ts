import { LRUCache } from 'lru-cache';

/**
 * An LRU bounded in bytes whose entries carry entity tags, with a tag → keys
 * index kept in step with evictions and expiries, so every entry holding a
 * tag can be dropped at once. Shared by the in-process store and the hot path.
 */
export class TaggedLru<V extends { readonly tags: readonly string[] }> {
  readonly #byTag = new Map<string, Set<string>>();
  readonly #entries: LRUCache<string, V>;

  constructor(maxBytes: number, sizeOf: (value: V) => number) {
    this.#entries = new LRUCache<string, V>({
      maxSize: maxBytes,
      sizeCalculation: (value) => Math.max(1, sizeOf(value)),
      dispose: (value, key) => {
        for (const tag of value.tags) {
          const keys = this.#byTag.get(tag);
          keys?.delete(key);
          if (keys?.size === 0) this.#byTag.delete(tag);
        }
      },
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Stores `value` for `ttlMs`; false when it is larger than the whole cache. */
  set(key: string, value: V, ttlMs: number): boolean {
    this.#entries.set(key, value, { ttl: ttlMs });
    if (!this.#entries.has(key)) return false;
    for (const tag of value.tags) {
      let keys = this.#byTag.get(tag);
      if (!keys) this.#byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** Drops every entry holding one of `tags`; returns how many were dropped. */
  dropTags(tags: Iterable<string>): number {
    let dropped = 0;
    for (const tag of tags) {
      for (const key of [...(this.#byTag.get(tag) ?? [])]) if (this.#entries.delete(key)) dropped++;
      this.#byTag.delete(tag);
    }
    return dropped;
  }

  /** The tags held of entities of these types (`Type:…`). */
  tagsOfTypes(types: readonly string[]): string[] {
    return [...this.#byTag.keys()].filter((tag) => types.some((type) => tag.startsWith(`${type}:`)));
  }

  clear(): void {
    this.#entries.clear();
    this.#byTag.clear();
  }
}
