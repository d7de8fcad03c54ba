import type { BudgetPolicy } from './config';

/** A bucket after an operation on it. */
export interface BucketState {
  /** Whether the points asked for were taken (always true for a refund or a peek). */
  readonly allowed: boolean;
  /** Points left, possibly fractional. */
  readonly tokens: number;
}

/**
 * Token buckets of cost points, one per client identity. A bucket starts
 * full, refills continuously at `refillPerSecond` up to `capacity`, and is
 * forgotten once full again. Every operation refills first, then acts,
 * atomically.
 */
export interface BudgetStore {
  /** Takes `cost` points if the bucket holds that many; else takes nothing. `cost` 0 peeks. */
  take(client: string, cost: number, policy: BudgetPolicy): Promise<BucketState>;
  /** Gives back `points` (charged by an estimate above the actual cost), up to the capacity. */
  refund(client: string, points: number, policy: BudgetPolicy): Promise<BucketState>;
  /** Releases what the store holds (not a shared Redis client). Idempotent. */
  close(): Promise<void>;
}

/** A shared store that can also hand out a batch of points to spend elsewhere (cost/leased-budget.ts). */
export interface LeasableBudgetStore extends BudgetStore {
  /** Takes up to `points` (as many whole points as the bucket holds); says how many it took and how many are left. */
  lease(client: string, points: number, policy: BudgetPolicy): Promise<{ taken: number; tokens: number }>;
}

/** Options of {@link createMemoryBudgetStore}. */
export interface MemoryBudgetStoreOptions {
  /** Milliseconds clock. Default `Date.now` (tests pass a fake one). */
  now?: () => number;
  /** Buckets kept before full ones, then the oldest, are dropped. Default 100000. */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets in this process only: for a single gateway instance (no REDIS_URL). */
export function createMemoryBudgetStore({
  now = Date.now,
  maxClients = 100_000,
}: MemoryBudgetStoreOptions = {}): BudgetStore {
  const buckets = new Map<string, Bucket>();

  function refilled(client: string, policy: BudgetPolicy, at: number): Bucket {
    const bucket = buckets.get(client);
    if (!bucket) return { tokens: policy.capacity, at };
    const elapsed = Math.max(0, at - bucket.at);
    return {
      tokens: Math.min(policy.capacity, bucket.tokens + (elapsed * policy.refillPerSecond) / 1000),
      at: Math.max(at, bucket.at),
    };
  }

  function save(client: string, bucket: Bucket, policy: BudgetPolicy): void {
    buckets.delete(client);
    if (bucket.tokens >= policy.capacity) return;
    buckets.set(client, bucket);
    if (buckets.size <= maxClients) return;
    for (const [key, old] of buckets) {
      if (buckets.size <= maxClients) break;
      // Oldest first (Map keeps insertion order); a dropped bucket is as if full.
      if (old !== bucket) buckets.delete(key);
    }
  }

  async function apply(
    client: string,
    policy: BudgetPolicy,
    change: (tokens: number) => BucketState,
  ): Promise<BucketState> {
    const bucket = refilled(client, policy, now());
    const state = change(bucket.tokens);
    save(client, { tokens: state.tokens, at: bucket.at }, policy);
    return state;
  }

  return {
    take: (client, cost, policy) =>
      apply(client, policy, (tokens) =>
        tokens >= cost ? { allowed: true, tokens: tokens - cost } : { allowed: false, tokens },
      ),
    refund: (client, points, policy) =>
      apply(client, policy, (tokens) => ({ allowed: true, tokens: Math.min(policy.capacity, tokens + points) })),
    async close() {
      buckets.clear();
    },
  };
}
