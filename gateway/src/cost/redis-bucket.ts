import { createHash } from 'node:crypto';
import type { RedisClient } from '@commerce/common';
import type { BucketState, LeasableBudgetStore } from './bucket';
import type { BudgetPolicy } from './config';

/**
 * One bucket operation, atomic in Redis: refill for the time elapsed on the
 * Redis clock (so gateway clocks need not agree), then take or refund, then
 * expire the key when the bucket would be full again.
 * KEYS[1] bucket hash {t: tokens, at: ms}; ARGV capacity, refill/s, points, 'take'|'refund'|'lease'.
 * A lease takes as many of the points as the bucket holds (whole points) and
 * returns how many it took in place of the 0/1 verdict.
 */
const SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = tokens + (now - at) * rate / 1000
  at = now
end
if tokens > capacity then tokens = capacity end
local allowed = 1
if ARGV[4] == 'refund' then
  tokens = math.min(capacity, tokens + points)
elseif ARGV[4] == 'lease' then
  allowed = math.min(points, math.floor(tokens))
  if allowed < 0 then allowed = 0 end
  tokens = tokens - allowed
elseif tokens >= points then
  tokens = tokens - points
else
  allowed = 0
end
if tokens >= capacity then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
end
return { allowed, tostring(tokens) }
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** Options of {@link createRedisBudgetStore}. */
export interface RedisBudgetStoreOptions {
  /** The gateway's shared client; the store does not close it. */
  redis: RedisClient;
  /** Prefix of the bucket keys (`REDIS_KEY_PREFIX`); keys are `<prefix>cost-budget:<client>`. */
  keyPrefix: string;
}

/** Buckets in Redis, shared by every gateway instance that uses the same Redis and prefix. */
export function createRedisBudgetStore({ redis, keyPrefix }: RedisBudgetStoreOptions): LeasableBudgetStore {
  async function run(
    client: string,
    policy: BudgetPolicy,
    points: number,
    action: 'take' | 'refund' | 'lease',
  ): Promise<[number, number]> {
    const args = [`${keyPrefix}cost-budget:${client}`, policy.capacity, policy.refillPerSecond, points, action];
    let reply: unknown;
    try {
      reply = await redis.evalsha(SHA, 1, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await redis.eval(SCRIPT, 1, ...args);
    }
    const [verdict, tokens] = reply as [number, string];
    return [verdict, Number(tokens)];
  }
  const state = ([allowed, tokens]: [number, number]): BucketState => ({ allowed: allowed === 1, tokens });
  return {
    take: async (client, cost, policy) => state(await run(client, policy, cost, 'take')),
    refund: async (client, points, policy) => state(await run(client, policy, points, 'refund')),
    async lease(client, points, policy) {
      const [taken, tokens] = await run(client, policy, points, 'lease');
      return { taken, tokens };
    },
    async close() {},
  };
}
