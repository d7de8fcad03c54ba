/**
 * Where the response cache keeps entries and their entity tags. Two
 * implementations share this contract: in process (one gateway) and Redis
 * (every gateway instance sharing it sees the same entries and invalidations).
 */
export interface ResponseCacheStore {
  /** The stored values for `keys`, in order (undefined where absent). */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  /**
   * Stores `value` for `ttlSeconds`, tagged with entity tags (`Type:id`).
   * Refuses (returns false) when one of the tags was invalidated after
   * `computedSince` (ms epoch): the response may have been computed from data
   * older than a mutation of one of its entities (it started before the
   * mutation, or read a replica still behind it) and must not be pinned.
   */
  set(key: string, value: string, ttlSeconds: number, tags: readonly string[], computedSince: number): Promise<boolean>;
  /** Drops every entry tagged with any of `tags`; returns how many entries were dropped. */
  invalidate(tags: readonly string[]): Promise<number>;
  /** Drops every entry tagged with an entity of one of these types. */
  invalidateTypes(types: readonly string[]): Promise<number>;
  /** Drops every entry. */
  clear(): Promise<number>;
  close(): Promise<void>;
}
