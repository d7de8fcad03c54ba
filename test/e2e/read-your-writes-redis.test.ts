import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisLsnStore, decodeId } from '@commerce/kit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { adminHeaders, asUser } from '../helpers/tokens';

describe('read-your-writes positions in Redis', () => {
  let redis: TestRedis;
  let platform: TestPlatform;
  let client: Redis;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    client.on('error', () => undefined); // Redis is stopped on purpose in one test
    platform = await startTestPlatform({ REDIS_URL: redis.url });
  });
  after(async () => {
    await platform?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  it('keeps the highest position per principal and shard, and forgets it after the TTL', async () => {
    const store = createRedisLsnStore(client, 300, `test-${randomUUID()}:`);
    await store.record('user:1', 0, 100n);
    await store.record('user:1', 0, 50n);
    assert.equal(await store.required('user:1', 0), 100n);
    assert.equal(await store.required('user:1', 1), undefined);
    assert.equal(await store.required('user:2', 0), undefined);
    await store.record('user:1', 0, 2n ** 40n);
    assert.equal(await store.required('user:1', 0), 2n ** 40n);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await store.required('user:1', 0), undefined);
  });

  it('shares a write’s position across subgraphs: after placeOrder, the users subgraph reads that user from the primary', async () => {
    const res = await platform.gql(
      '{ users(first: 1) { edges { node { id } } } products(first: 1) { edges { node { id } } } }',
      {},
      await adminHeaders(),
    );
    const userId: string = res.body.data.users.edges[0].node.id;
    const shard = String(platform.subgraphs.users.db.shardOf(decodeId('User', userId)));
    const rywReads = () =>
      platform.metric('db_reads_on_primary_total', { subgraph: 'users', shard, reason: 'read_your_writes' }, ['users']);
    // The replica lags on purpose, so only the shared position can send the users subgraph to the primary.
    const replica = platform.cluster!.shards[Number(shard)]!.replicas[0]!;
    await replica.setSetting('recovery_min_apply_delay', '3s');
    try {
      const before = await rywReads();
      const placed = await platform.gql(
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
        {
          input: {
            idempotencyKey: randomUUID(),
            items: [{ productId: res.body.data.products.edges[0].node.id, quantity: 1 }],
          },
        },
        await asUser(userId),
      );
      assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
      assert.ok(
        await client.get(`ryw:{user:${decodeId('User', userId)}}:${shard}`),
        'the orders subgraph stored the position in Redis under the user’s key',
      );
      const me = await platform.gql('{ me { id } }', undefined, await asUser(userId));
      assert.equal(me.body.data.me.id, userId);
      assert.ok(
        (await rywReads()) > before,
        'the users subgraph saw the orders subgraph’s write position and read from the primary',
      );
    } finally {
      await replica.setSetting('recovery_min_apply_delay', '0');
    }
  });

  it('keeps serving reads and writes while Redis is down (reads of pending principals go to the primary), and recovers', async () => {
    const res = await platform.gql(
      '{ users(first: 2) { edges { node { id } } } products(first: 1) { edges { node { id } } } }',
      {},
      await adminHeaders(),
    );
    const userId: string = res.body.data.users.edges[1].node.id;
    const productId: string = res.body.data.products.edges[0].node.id;
    await redis.stop();
    try {
      const placed = await platform.gql(
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
        { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
        await asUser(userId),
      );
      assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
      const mine = await platform.gql(
        '{ me { orders(first: 1) { edges { node { id } } } } }',
        undefined,
        await asUser(userId),
      );
      assert.equal(mine.body.errors, undefined);
      assert.equal(
        mine.body.data.me.orders.edges[0].node.id,
        placed.body.data.placeOrder.id,
        'without the store, the principal reads the primary',
      );
      assert.ok(
        platform.logs.some((line) => /read-your-writes/.test(String(line.msg))),
        'the degraded mode is logged',
      );
    } finally {
      await redis.start();
    }
  });
});
