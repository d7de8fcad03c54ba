import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createMemoryBudgetStore, type BudgetStore } from '../../gateway/src/cost/bucket';
import { policyHeader, rateLimitHeader, secondsUntil } from '../../gateway/src/cost/headers';
import { createRedisBudgetStore } from '../../gateway/src/cost/redis-bucket';
import { startRedis, type TestRedis } from '../helpers/redis';

const policy = { capacity: 100, refillPerSecond: 10 };

describe('in-process budget store', () => {
  it('starts full, takes, refuses what it does not hold, and refills at the configured rate', async () => {
    let now = 1_000_000;
    const store = createMemoryBudgetStore({ now: () => now });
    assert.deepEqual(await store.take('a', 60, policy), { allowed: true, tokens: 40 });
    assert.deepEqual(await store.take('a', 50, policy), { allowed: false, tokens: 40 }, 'a refusal takes nothing');
    now += 1500;
    assert.deepEqual(await store.take('a', 0, policy), { allowed: true, tokens: 55 }, '1.5 s at 10/s gives 15 back');
    now += 60_000;
    assert.deepEqual(await store.take('a', 0, policy), { allowed: true, tokens: 100 }, 'never above capacity');
  });

  it('keeps one bucket per client', async () => {
    const store = createMemoryBudgetStore({ now: () => 0 });
    await store.take('a', 100, policy);
    assert.equal((await store.take('a', 1, policy)).allowed, false);
    assert.equal((await store.take('b', 1, policy)).allowed, true);
  });

  it('refunds up to the capacity', async () => {
    const store = createMemoryBudgetStore({ now: () => 0 });
    await store.take('a', 70, policy);
    assert.equal((await store.refund('a', 50, policy)).tokens, 80);
    assert.equal((await store.refund('a', 500, policy)).tokens, 100);
  });

  it('forgets the oldest buckets past maxClients (a forgotten bucket is full)', async () => {
    const store = createMemoryBudgetStore({ now: () => 0, maxClients: 2 });
    for (const client of ['a', 'b', 'c']) await store.take(client, 100, policy);
    assert.equal((await store.take('a', 100, policy)).allowed, true);
    assert.equal((await store.take('c', 1, policy)).allowed, false);
  });
});

describe('budget headers', () => {
  it('formats the IETF RateLimit-Policy and RateLimit fields and Retry-After seconds', () => {
    assert.equal(policyHeader(policy), '"cost";q=100;w=10');
    assert.equal(rateLimitHeader(42.7, policy), '"cost";r=42;t=6');
    assert.equal(secondsUntil(50, 42.7, policy), 1);
    assert.equal(secondsUntil(100, 0, policy), 10);
  });
});

describe('Redis budget store', () => {
  let redis: TestRedis;
  let client: Redis;
  let store: BudgetStore;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    store = createRedisBudgetStore({ redis: client, keyPrefix: 'test:' });
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('grants exactly what the bucket holds to concurrent takers', async () => {
    const slow = { capacity: 100, refillPerSecond: 0.001 };
    const results = await Promise.all(Array.from({ length: 40 }, () => store.take('burst', 10, slow)));
    assert.equal(results.filter((r) => r.allowed).length, 10);
    assert.ok((await store.take('burst', 0, slow)).tokens < 10);
  });

  it('refunds atomically, never above capacity, and expires full buckets', async () => {
    await store.take('refund', 80, policy);
    assert.ok((await store.refund('refund', 30, policy)).tokens >= 50);
    assert.equal((await store.refund('refund', 1000, policy)).tokens, 100);
    assert.equal(await client.exists('test:cost-budget:refund'), 0, 'a full bucket is not stored');
    await store.take('refund', 1, policy);
    const ttl = await client.pttl('test:cost-budget:refund');
    assert.ok(ttl > 0 && ttl <= 1100, `expires when full again (${ttl} ms)`);
  });

  it('reloads its script after SCRIPT FLUSH', async () => {
    await client.script('FLUSH');
    assert.equal((await store.take('flushed', 1, policy)).allowed, true);
  });
});
