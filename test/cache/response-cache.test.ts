import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { scrape, sum } from '../helpers/metrics';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { startRedis, type TestRedis } from '../helpers/redis';
import { adminHeaders, asUser } from '../helpers/tokens';

const PRODUCTS =
  'query Products($first: Int) { products(first: $first) { edges { node { id name price { amount } } } } }';
const PRICE = 'query Price($id: ID!) { product(id: $id) { id price { amount } } }';
const SECRET = 'purge-secret-for-tests-0123456789';

describe('response cache through the gateway, on Redis', () => {
  let redis: TestRedis;
  let platform: TestPlatform;
  let second: GatewayProcess;
  let users: string[];
  let products: string[];

  before(async () => {
    redis = await startRedis();
    platform = await startTestPlatform({ REDIS_URL: redis.url, CACHE_PURGE_SECRET: SECRET });
    second = await startGatewayProcess(platform, { REDIS_URL: redis.url });
    const seed = await platform.gql(
      '{ users(first: 3) { edges { node { id } } } products(first: 5) { edges { node { id } } } }',
      {},
      // Listing users needs the admin scope (README "Authorization").
      await adminHeaders(),
    );
    users = seed.body.data.users.edges.map((e: { node: { id: string } }) => e.node.id);
    products = seed.body.data.products.edges.map((e: { node: { id: string } }) => e.node.id);
  });
  after(async () => {
    await second?.stop();
    await platform?.stop();
    await redis?.stop();
  });

  const cacheCounter = async (result: string) =>
    sum(await scrape(platform.gateway.url), 'gateway_response_cache_total', { result });

  it('answers the second identical public query from the cache with identical data; other variables miss', async () => {
    const first = await platform.gql(PRODUCTS, { first: 3 });
    assert.equal(first.headers.get('x-cache'), 'MISS');
    assert.match(first.headers.get('cache-control') ?? '', /max-age=300, public/);
    const hitsBefore = await cacheCounter('hit');
    const again = await platform.gql(PRODUCTS, { first: 3 });
    assert.equal(again.headers.get('x-cache'), 'HIT');
    assert.deepEqual(again.body, first.body);
    assert.match(again.headers.get('age') ?? '', /^\d+$/);
    assert.equal(await cacheCounter('hit'), hitsBefore + 1);
    const other = await platform.gql(PRODUCTS, { first: 4 });
    assert.equal(other.headers.get('x-cache'), 'MISS');
    assert.equal(other.body.data.products.edges.length, 4);
  });

  it('keys private data by principal: two users never see each other’s entries', async () => {
    const me = '{ me { id email orders(first: 2) { edges { node { id } } } } }';
    const [a, b] = users;
    const a1 = await platform.gql(me, undefined, await asUser(a!));
    assert.equal(a1.headers.get('x-cache'), 'MISS');
    assert.match(a1.headers.get('cache-control') ?? '', /private/);
    const b1 = await platform.gql(me, undefined, await asUser(b!));
    assert.equal(b1.headers.get('x-cache'), 'MISS', 'B must not get A’s entry');
    assert.equal(b1.body.data.me.id, b);
    const a2 = await platform.gql(me, undefined, await asUser(a!));
    const b2 = await platform.gql(me, undefined, await asUser(b!));
    assert.equal(a2.headers.get('x-cache'), 'HIT');
    assert.equal(b2.headers.get('x-cache'), 'HIT');
    assert.equal(a2.body.data.me.id, a);
    assert.equal(b2.body.data.me.id, b);
    assert.notEqual(a2.body.data.me.email, b2.body.data.me.email);
  });

  it('never caches private data for an anonymous caller, mutations, or responses with errors', async () => {
    // An anonymous caller gets no email at all (README "Authorization"), and nothing of it from the cache.
    const emails = '{ users(first: 2) { edges { node { email } } } }';
    await platform.gql(emails);
    const anonymous = await platform.gql(emails);
    assert.notEqual(anonymous.headers.get('x-cache'), 'HIT');
    assert.equal(anonymous.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const unknown = '{ product(id: "prd_1234567") { id } }';
    await platform.gql(unknown);
    const again = await platform.gql(unknown);
    assert.equal(again.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.equal(again.headers.get('x-cache'), 'MISS');
    const mutation = await platform.gql('mutation($id: ID!) { updateProduct(id: $id, input: {}) { id } }', {
      id: products[4],
    });
    assert.equal(mutation.headers.get('x-cache'), 'BYPASS');
  });

  it('shows a changed price on the very next query, through this gateway and a second gateway process sharing Redis', async () => {
    const id = products[0]!;
    const admin = await asUser(users[0]!, ['products:write']);
    const viaFirst = await platform.gql(PRICE, { id });
    const viaSecond = await postGraphQL(second.url, PRICE, { id });
    assert.equal(
      (await platform.gql(PRICE, { id }, admin)).headers.get('x-cache'),
      'HIT',
      'a public entry serves signed-in callers too',
    );
    assert.equal((await postGraphQL(second.url, PRICE, { id })).headers.get('x-cache'), 'HIT');
    assert.deepEqual(viaSecond.body, viaFirst.body);
    const newPrice = viaFirst.body.data.product.price.amount + 101;
    const update = await platform.gql(
      'mutation($id: ID!, $p: Int) { updateProduct(id: $id, input: { priceAmount: $p }) { id } }',
      { id, p: newPrice },
      admin,
    );
    assert.equal(update.body.errors, undefined, JSON.stringify(update.body.errors));
    // The writer reads its own write (read-your-writes) on either gateway; neither serves the old entry.
    const afterFirst = await platform.gql(PRICE, { id }, admin);
    const afterSecond = await postGraphQL(second.url, PRICE, { id }, admin);
    assert.equal(afterFirst.body.data.product.price.amount, newPrice);
    assert.equal(afterSecond.body.data.product.price.amount, newPrice);
    assert.equal(afterFirst.headers.get('x-cache'), 'MISS');
    assert.equal(afterSecond.headers.get('x-cache'), 'MISS');
    assert.ok(
      sum(await scrape(platform.gateway.url), 'gateway_response_cache_invalidations_total', { source: 'mutation' }) >=
        1,
    );
  });

  it('answers exact repeats from the in-memory hot path, and another instance drops its hot copy when this one invalidates', async () => {
    const id = products[3]!;
    const operations = async (url: string) => sum(await scrape(url), 'gateway_operations_total');
    await postGraphQL(second.url, PRICE, { id });
    await postGraphQL(second.url, PRICE, { id });
    const before = await operations(second.url);
    const hot = await postGraphQL(second.url, PRICE, { id });
    assert.equal(hot.headers.get('x-cache'), 'HIT');
    assert.equal(
      await operations(second.url),
      before + 1,
      'a hot hit is counted in gateway_operations_total like any operation',
    );
    const update = await platform.gql(
      'mutation($id: ID!, $p: Int) { updateProduct(id: $id, input: { priceAmount: $p }) { id } }',
      { id, p: hot.body.data.product.price.amount + 7 },
      await adminHeaders(),
    );
    assert.equal(update.body.errors, undefined);
    await waitFor(
      'the other instance to drop its hot copy',
      async () => (await postGraphQL(second.url, PRICE, { id })).headers.get('x-cache') !== 'HIT',
      2000,
    );
    assert.ok((await operations(second.url)) > before, 'the next request ran the operation again');
  });

  it('drops a user’s cached orders when that user places an order', async () => {
    const user = users[2]!;
    const mine = '{ me { orders(first: 1) { edges { node { id } } } } }';
    await platform.gql(mine, undefined, await asUser(user));
    assert.equal((await platform.gql(mine, undefined, await asUser(user))).headers.get('x-cache'), 'HIT');
    const placed = await platform.gql(
      'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
      { input: { idempotencyKey: randomUUID(), items: [{ productId: products[1], quantity: 1 }] } },
      await asUser(user),
    );
    const next = await platform.gql(mine, undefined, await asUser(user));
    assert.equal(next.headers.get('x-cache'), 'MISS');
    assert.equal(next.body.data.me.orders.edges[0].node.id, placed.body.data.placeOrder.id);
  });

  it('answers a GET for a public query with Cache-Control, an ETag, and 304 on a matching If-None-Match', async () => {
    const url = `${platform.gateway.url}?query=${encodeURIComponent(PRODUCTS)}&variables=${encodeURIComponent(JSON.stringify({ first: 2 }))}`;
    const headers = { 'apollo-require-preflight': 'true' };
    const first = await fetch(url, { headers });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('cache-control') ?? '', /public/);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const body = await first.text();
    const revalidated = await fetch(url, { headers: { ...headers, 'if-none-match': etag } });
    assert.equal(revalidated.status, 304);
    assert.equal(await revalidated.text(), '');
    const changed = await fetch(url, { headers: { ...headers, 'if-none-match': '"something-else"' } });
    assert.equal(changed.status, 200);
    assert.equal(await changed.text(), body);
  });

  it('purges by tag, by type and everything, only with the secret', async () => {
    const purge = (body: unknown, secret = SECRET) =>
      fetch(new URL('/admin/cache/purge', platform.gateway.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await purge({ all: true }, 'wrong-secret-wrong-secret')).status, 401);
    assert.equal((await purge({ nothing: 1 })).status, 400);
    const [tagged, typed] = [products[2]!, products[1]!];
    for (const id of [tagged, typed]) {
      await platform.gql(PRICE, { id });
      assert.equal((await platform.gql(PRICE, { id })).headers.get('x-cache'), 'HIT');
    }
    const byTag = await purge({ tags: [`Product:${tagged}`] });
    assert.equal(byTag.status, 200);
    assert.equal(((await byTag.json()) as { purged: number }).purged, 1);
    assert.equal((await platform.gql(PRICE, { id: tagged })).headers.get('x-cache'), 'MISS');
    assert.equal((await platform.gql(PRICE, { id: typed })).headers.get('x-cache'), 'HIT', 'other entries stay');
    assert.equal((await purge({ types: ['Product'] })).status, 200);
    assert.equal((await platform.gql(PRICE, { id: typed })).headers.get('x-cache'), 'MISS');
    const names = '{ users(first: 2) { edges { node { id name } } } }';
    const admin = await adminHeaders();
    await platform.gql(names, {}, admin);
    assert.equal((await platform.gql(names, {}, admin)).headers.get('x-cache'), 'HIT');
    const all = await purge({ all: true });
    assert.ok(((await all.json()) as { purged: number }).purged >= 1);
    assert.equal((await platform.gql(names, {}, admin)).headers.get('x-cache'), 'MISS');
  });

  it('serves uncached (BYPASS) while Redis is down and hits again once it is back', async () => {
    await platform.gql(PRODUCTS, { first: 5 });
    await redis.stop();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await platform.gql(PRODUCTS, { first: 5 });
        assert.equal(res.status, 200);
        assert.equal(res.body.errors, undefined);
        assert.equal(res.body.data.products.edges.length, 5);
        assert.equal(res.headers.get('x-cache'), 'BYPASS');
      }
      assert.ok(sum(await scrape(platform.gateway.url), 'gateway_response_cache_errors_total') >= 1);
    } finally {
      await redis.start();
    }
    await waitFor(
      'cache hits after Redis restarted',
      async () => (await platform.gql(PRODUCTS, { first: 5 })).headers.get('x-cache') === 'HIT',
      15_000,
    );
  });
});
