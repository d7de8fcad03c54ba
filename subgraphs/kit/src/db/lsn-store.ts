import type { Redis, Cluster } from 'ioredis';
import { withSpan } from '@commerce/common';

/**
 * Read-your-writes memory: after a write for a consistency key, the shard's WAL
 * position is recorded for a short time; reads for that key on that
 * shard may use a replica only once it has replayed that far.
 */
export interface LsnStore {
  /** Records (keeping the highest) the LSN a consistency key must see on a shard. */
  record(consistencyKey: string, shard: number, lsn: bigint): Promise<void>;
  /** The LSN the consistency key must see on the shard, or undefined if none is pending. */
  required(consistencyKey: string, shard: number): Promise<bigint | undefined>;
  close(): Promise<void>;
}

/** In-process store, used when no Redis is configured. Entries expire after `ttlMs`. */
export function createMemoryLsnStore(ttlMs: number): LsnStore {
  const entries = new Map<string, { lsn: bigint; expires: number }>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [key, entry] of entries) if (entry.expires <= now) entries.delete(key);
    },
    Math.max(1000, ttlMs),
  );
  sweep.unref();
  return {
    async record(consistencyKey, shard, lsn) {
      const key = `${consistencyKey}:${shard}`;
      const current = entries.get(key);
      if (!current || current.expires <= Date.now() || current.lsn < lsn)
        entries.set(key, { lsn, expires: Date.now() + ttlMs });
      else current.expires = Date.now() + ttlMs;
    },
    async required(consistencyKey, shard) {
      const entry = entries.get(`${consistencyKey}:${shard}`);
      return entry && entry.expires > Date.now() ? entry.lsn : undefined;
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}

// Keeps the maximum of the stored and the new LSN, atomically, and refreshes the TTL.
const RECORD_MAX = `
local current = redis.call('GET', KEYS[1])
if (not current) or (tonumber(current) < tonumber(ARGV[1])) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

/**
 * Redis store shared by every subgraph process. LSNs are stored as decimal
 * strings (they fit in a double only up to 2^53; Lua compares numbers, which
 * is exact for WAL positions below 8 PiB of WAL). `service` (the subgraph)
 * names the Redis calls' spans.
 */
export function createRedisLsnStore(
  redis: Redis | Cluster,
  ttlMs: number,
  prefix = 'ryw:',
  service = 'subgraph',
): LsnStore {
  const key = (consistencyKey: string, shard: number) => `${prefix}{${consistencyKey}}:${shard}`;
  // A client span per command when tracing is on (the key names a user: it stays out of the span).
  const traced = <T>(command: string, shard: number, fn: () => Promise<T>) =>
    withSpan(
      service,
      `redis ${command}`,
      { 'db.system.name': 'redis', 'db.operation.name': command, 'commerce.db.shard': shard },
      fn,
    );
  return {
    async record(consistencyKey, shard, lsn) {
      await traced('EVAL', shard, () =>
        redis.eval(RECORD_MAX, 1, key(consistencyKey, shard), lsn.toString(), String(ttlMs)),
      );
    },
    async required(consistencyKey, shard) {
      const value = await traced('GET', shard, () => redis.get(key(consistencyKey, shard)));
      return value === null ? undefined : BigInt(value);
    },
    async close() {},
  };
}
