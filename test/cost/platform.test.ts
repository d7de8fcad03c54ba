import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { metric } from '../gateway/helpers';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startRedis, type TestRedis } from '../helpers/redis';
import { params } from './helpers';
import { adminHeaders, asUser } from '../helpers/tokens';

const PLACE_ORDER = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }';
const CREATE_USER = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }';
const DEEP_QUERY = `{ users(first: 50) { edges { node { id name
  orders(first: 10) { edges { node { id status total { formatted }
    items { quantity unitPrice { formatted } product { name price { formatted } } } } } } } } } }`;

interface DeepUser {
  orders: { edges: { node: { items: unknown[] } }[] };
}

describe('cost and rate limits on the whole platform', () => {
  let redis: TestRedis;
  let platform: TestPlatform;
  let users: string[];
  let productId: string;

  before(async () => {
    redis = await startRedis();
    platform = await startTestPlatform({
      REDIS_URL: redis.url,
      FIELD_RATE_LIMITS: 'Mutation.placeOrder=3/1m@principal,Mutation.createUser=2/1m@ip',
      COST_MODE: 'enforce',
      COST_BUDGET_CAPACITY: '1000000',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
    });
    const res = await platform.gql(
      '{ users(first: 2) { edges { node { id } } } products(first: 1) { edges { node { id } } } }',
      {},
      // Listing users needs the admin scope (README "Authorization").
      await adminHeaders(),
    );
    users = res.body.data.users.edges.map((e: { node: { id: string } }) => e.node.id);
    productId = res.body.data.products.edges[0].node.id;
  });
  after(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  const order = async (user: string) =>
    platform.gql(
      PLACE_ORDER,
      { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
      await asUser(user),
    );

  it('limits placeOrder per principal through the gateway, without calling the orders subgraph once over', async () => {
    for (let i = 0; i < 3; i++) {
      const placed = await order(users[0]!);
      assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
    }
    const ordersCalls = () => metric(platform.gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'orders' });
    const before = await ordersCalls();
    const refused = await order(users[0]!);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(refused.body.errors?.[0]?.extensions?.rateLimit.field, 'Mutation.placeOrder');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After within the 1-minute window, got ${retryAfter}`);
    assert.equal(await ordersCalls(), before, 'the refused placeOrder never reached the orders subgraph');
    const other = await order(users[1]!);
    assert.equal(other.body.errors, undefined, 'another user still may');
  });

  it('limits createUser per client IP, whoever claims to send it', async () => {
    const create = async (n: number) =>
      platform.gql(
        CREATE_USER,
        { input: { email: `limit-${randomUUID()}@example.com`, name: `Limit ${n}` } },
        await asUser(users[n % 2]!),
      );
    for (let i = 0; i < 2; i++) assert.equal((await create(i)).body.errors, undefined);
    const refused = await create(2);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(refused.body.errors?.[0]?.extensions?.rateLimit.field, 'Mutation.createUser');
  });

  it('estimates the deep query as computed by hand and charges what the response actually held', async () => {
    // A client with a budget of its own (nobody else's token has this subject), allowed to list users and their orders.
    const probe = await asUser('usr_424242', ['admin']);
    const res = await platform.gql(DEEP_QUERY, undefined, { ...probe, 'x-cost-report': 'true' });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const { estimated, actual } = (res.body as { extensions?: { cost?: { estimated: number; actual: number } } })
      .extensions?.cost ?? { estimated: NaN, actual: NaN };
    assert.equal(estimated, 1 + 50 * (1 + 1 + (1 + 10 * (1 + 1 + 1 + 5 * (1 + 1 + 1 + 1)))));
    // UserConnection; per user: UserEdge, User, OrderConnection; per order: OrderEdge, Order, Money; per item: OrderItem, Money, Product, Money.
    const nodes: DeepUser[] = res.body.data.users.edges.map((e: { node: DeepUser }) => e.node);
    const expected =
      1 + nodes.reduce((sum, u) => sum + 3 + u.orders.edges.reduce((s, o) => s + 3 + 4 * o.node.items.length, 0), 0);
    assert.equal(actual, expected);
    assert.ok(actual < estimated, `${actual} < ${estimated}`);
    assert.equal(params(res.headers.get('ratelimit')).r, 1_000_000 - actual, 'the client paid the actual cost only');
  });
});
