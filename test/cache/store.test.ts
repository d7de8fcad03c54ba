import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createRedis, type RedisClient } from '@commerce/common';
import { createMemoryStore } from '../../gateway/src/cache/memory-store';
import { createRedisStore } from '../../gateway/src/cache/redis-store';
import type { ResponseCacheStore } from '../../gateway/src/cache/store';
import { startRedis, startRedisCluster, type TestRedis, type TestRedisCluster } from '../helpers/redis';

/** One contract, run against every store implementation. */
function storeContract(name: string, make: () => ResponseCacheStore) {
  describe(`response cache store: ${name}`, () => {
    let store: ResponseCacheStore;
    before(() => {
      store = make();
    });

    it('returns stored values in key order and undefined for missing keys', async () => {
      await store.set('a', 'A', 60, [], 0);
      await store.set('b', 'B', 60, [], 0);
      assert.deepEqual(await store.getMany(['b', 'missing', 'a']), ['B', undefined, 'A']);
    });

    it('expires entries after their TTL', async () => {
      await store.set('short', 'S', 1, [], 0);
      assert.deepEqual(await store.getMany(['short']), ['S']);
      const deadline = Date.now() + 5000;
      while ((await store.getMany(['short']))[0] !== undefined) {
        assert.ok(Date.now() < deadline, 'entry still there 5 s after a 1 s TTL');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });

    it('drops exactly the entries tagged with an invalidated entity', async () => {
      await store.set('p1', 'has product 1', 60, ['Product:prd_1', 'User:usr_1'], 0);
      await store.set('p2', 'has product 2', 60, ['Product:prd_2'], 0);
      assert.equal(await store.invalidate(['Product:prd_1']), 1);
      assert.deepEqual(await store.getMany(['p1', 'p2']), [undefined, 'has product 2']);
    });

    it('refuses to store a response computed before one of its entities was invalidated', async () => {
      const computedSince = Date.now() - 1000;
      await store.invalidate(['Product:prd_9']);
      assert.equal(await store.set('stale', 'old price', 60, ['Product:prd_9'], computedSince), false);
      assert.deepEqual(await store.getMany(['stale']), [undefined]);
      assert.equal(await store.set('fresh', 'new price', 60, ['Product:prd_9'], Date.now() + 1), true);
      assert.deepEqual(await store.getMany(['fresh']), ['new price']);
    });

    it('purges by entity type and everything', async () => {
      await store.set('t1', 'x', 60, ['Order:ord_1'], Date.now() + 1);
      await store.set('t2', 'y', 60, ['Order:ord_2', 'Product:prd_3'], Date.now() + 1);
      await store.set('t3', 'z', 60, ['Product:prd_4'], Date.now() + 1);
      assert.equal(await store.invalidateTypes(['Order']), 2);
      assert.deepEqual(await store.getMany(['t1', 't2', 't3']), [undefined, undefined, 'z']);
      assert.ok((await store.clear()) >= 1);
      assert.deepEqual(await store.getMany(['t3', 'b']), [undefined, undefined]);
    });
  });
}

storeContract('in process', () => createMemoryStore({ maxBytes: 1024 * 1024, maxTtlSeconds: 60 }));

describe('redis-backed', () => {
  let redis: TestRedis;
  let client: RedisClient;
  before(async () => {
    redis = await startRedis();
    client = createRedis(redis.url, pino({ level: 'silent' }), 'test');
    await new Promise((resolve) => client.once('ready', resolve));
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });
  storeContract('redis', () => createRedisStore(client, { prefix: 'test:', maxTtlSeconds: 60 }));
});

describe('redis-cluster-backed', () => {
  let cluster: TestRedisCluster;
  let client: RedisClient;
  before(async () => {
    cluster = await startRedisCluster();
    client = createRedis(cluster.url, pino({ level: 'silent' }), 'test');
    await new Promise((resolve) => client.once('ready', resolve));
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });
  storeContract('redis cluster (keys spread over 3 masters)', () =>
    createRedisStore(client, { prefix: 'test:', maxTtlSeconds: 60 }),
  );
});
