import type { GraphQLResolveInfo } from 'graphql';
import { InMemoryStore, getFieldIdentity, getGraphQLRateLimiter, type Identity, type Store } from 'graphql-rate-limit';
import type { RedisClient } from '@commerce/common';
import type { FieldRateLimit } from './config';

/**
 * graphql-rate-limit's store contract over ioredis: the call timestamps of an
 * identity and field as one JSON value expiring with its window, under
 * `<prefix>field-rate:`. (The library's own RedisStore expects node-redis
 * callbacks and ignores our key prefix.)
 */
export class FieldRateRedisStore implements Store {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, keyPrefix: string) {
    this.#redis = redis;
    this.#prefix = `${keyPrefix}field-rate:`;
  }

  #key({ contextIdentity, fieldIdentity }: Identity): string {
    return `${this.#prefix}${contextIdentity}:${fieldIdentity}`;
  }

  async setForIdentity(identity: Identity, timestamps: readonly number[], windowMs?: number): Promise<void> {
    if (timestamps.length === 0) {
      await this.#redis.del(this.#key(identity));
      return;
    }
    const ttl = Math.max(1, Math.max(...timestamps) + (windowMs ?? 60_000) - Date.now());
    await this.#redis.set(this.#key(identity), JSON.stringify(timestamps), 'PX', ttl);
  }

  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    const raw = await this.#redis.get(this.#key(identity));
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === 'number') : [];
  }
}

/** A counted call: what {@link FieldRateLimiter.giveBack} needs to uncount it. */
export interface FieldRateGrant {
  readonly limit: FieldRateLimit;
  readonly identity: string;
  /** The library stamps the call with `Date.now()` somewhere in [from, to]. */
  readonly from: number;
  readonly to: number;
}

/** The verdict on one call. */
export type FieldRateVerdict =
  | { readonly allowed: true; readonly grant: FieldRateGrant }
  | { readonly allowed: false; readonly message: string; readonly retryAfterSeconds: number };

/** Counts calls of rate-limited fields per identity (graphql-rate-limit's sliding window). */
export interface FieldRateLimiter {
  /** Records one call of `limit`'s field by `identity` and says whether it is within the limit. */
  check(limit: FieldRateLimit, identity: string): Promise<FieldRateVerdict>;
  /** Uncounts a call that was allowed but not executed (refused later for a fault of ours, or by another limit). */
  giveBack(grant: FieldRateGrant): Promise<void>;
}

/**
 * Wraps `getGraphQLRateLimiter` for use outside resolvers: the gateway has no
 * resolvers of its own, so calls are checked per root field before planning.
 * The library reads then writes the timestamps; calls of the same identity are
 * therefore queued here so a burst on one gateway instance is counted exactly
 * (bursts spread over several instances at the same millisecond can slip by).
 */
export function createFieldRateLimiter(store: Store = new InMemoryStore()): FieldRateLimiter {
  const limiter = getGraphQLRateLimiter({
    store,
    identifyContext: (identity: string) => identity,
    formatError: ({ fieldName, max, window }) =>
      `${fieldName} may be called at most ${max} times per ${window / 1000} s; try again later`,
  });
  const queues = new Map<string, Promise<unknown>>();

  const identityOf = (limit: FieldRateLimit, identity: string): Identity => ({
    contextIdentity: identity,
    fieldIdentity: getFieldIdentity(limit.fieldName, [], {}),
  });

  async function check(limit: FieldRateLimit, identity: string): Promise<FieldRateVerdict> {
    // The library reads only `info.fieldName`.
    const info = { fieldName: limit.fieldName } as GraphQLResolveInfo;
    const from = Date.now();
    const message = await limiter(
      { parent: undefined, args: {}, context: identity, info },
      { max: limit.max, window: limit.window, uncountRejected: true },
    );
    if (message === undefined) return { allowed: true, grant: { limit, identity, from, to: Date.now() } };
    const now = Date.now();
    const calls = (await store.getForIdentity(identityOf(limit, identity))).filter((t) => t + limit.windowMs > now);
    // The oldest call in the window leaves it first, making room for one more.
    const oldest = calls.length > 0 ? Math.min(...calls) : now;
    return {
      allowed: false,
      message,
      retryAfterSeconds: Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000)),
    };
  }

  async function giveBack({ limit, identity, from, to }: FieldRateGrant): Promise<void> {
    const key = identityOf(limit, identity);
    const calls = [...(await store.getForIdentity(key))];
    // The latest stamp in the call's interval is this call's (or an identical one of the same millisecond).
    for (let i = calls.length - 1; i >= 0; i -= 1) {
      const stamp = calls[i]!;
      if (stamp < from || stamp > to) continue;
      calls.splice(i, 1);
      await store.setForIdentity(key, calls, limit.windowMs);
      return;
    }
  }

  /** Runs `step` after every earlier step of the same identity and field, so read-modify-write cycles never interleave. */
  function queued<T>(limit: FieldRateLimit, identity: string, step: () => Promise<T>): Promise<T> {
    const key = `${identity}\n${limit.typeName}.${limit.fieldName}`;
    const result = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(step);
    queues.set(key, result);
    const forget = (): void => {
      if (queues.get(key) === result) queues.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  return {
    check: (limit, identity) => queued(limit, identity, () => check(limit, identity)),
    giveBack: (grant) => queued(grant.limit, grant.identity, () => giveBack(grant)),
  };
}
