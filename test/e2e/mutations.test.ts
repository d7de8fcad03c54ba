import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { decodeId } from '@commerce/kit';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { adminHeaders, asUser } from '../helpers/tokens';

const PLACE_ORDER =
  'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total { amount } items { quantity product { id name } } } }';

describe('mutations through the gateway', () => {
  let platform: TestPlatform;
  let userId: string;
  let products: { id: string; price: { amount: number } }[];

  before(async () => {
    platform = await startTestPlatform();
    const res = await platform.gql(
      '{ users(first: 1) { edges { node { id } } } products(first: 3) { edges { node { id price { amount } } } } }',
      {},
      // Listing users needs the admin scope (README "Authorization").
      await adminHeaders(),
    );
    userId = res.body.data.users.edges[0].node.id;
    products = res.body.data.products.edges.map((e: { node: unknown }) => e.node);
  });
  after(() => platform?.stop());

  async function ordersWithKey(user: string, key: string): Promise<number> {
    const shard = platform.shardMap.shards[platform.subgraphs.orders.db.shardOf(decodeId('User', user))]!;
    const client = new pg.Client({ connectionString: shard.primary });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM orders WHERE user_id = $1 AND idempotency_key = $2',
        [decodeId('User', user).toString(), key],
      );
      return Number(rows[0]!.n);
    } finally {
      await client.end();
    }
  }

  it('placeOrder with the same idempotency key twice creates one order and returns it both times', async () => {
    const key = randomUUID();
    const input = {
      idempotencyKey: key,
      items: [
        { productId: products[0]!.id, quantity: 2 },
        { productId: products[1]!.id, quantity: 1 },
      ],
    };
    const first = await platform.gql(PLACE_ORDER, { input }, await asUser(userId));
    const second = await platform.gql(PLACE_ORDER, { input }, await asUser(userId));
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    assert.equal(second.body.errors, undefined);
    assert.deepEqual(second.body.data, first.body.data);
    assert.equal(first.body.data.placeOrder.total.amount, products[0]!.price.amount * 2 + products[1]!.price.amount);
    assert.equal(await ordersWithKey(userId, key), 1);
  });

  it('placeOrder sent concurrently with one key still creates one order', async () => {
    const key = randomUUID();
    const input = { idempotencyKey: key, items: [{ productId: products[2]!.id, quantity: 1 }] };
    const headers = await asUser(userId);
    const results = await Promise.all(Array.from({ length: 5 }, () => platform.gql(PLACE_ORDER, { input }, headers)));
    const ids = new Set(results.map((r) => r.body.data?.placeOrder.id));
    assert.equal(ids.size, 1, JSON.stringify(results.map((r) => r.body)));
    assert.equal(await ordersWithKey(userId, key), 1);
  });

  it('refuses an idempotency key reused for a different order', async () => {
    const key = randomUUID();
    await platform.gql(
      PLACE_ORDER,
      { input: { idempotencyKey: key, items: [{ productId: products[0]!.id, quantity: 1 }] } },
      await asUser(userId),
    );
    const reuse = await platform.gql(
      PLACE_ORDER,
      { input: { idempotencyKey: key, items: [{ productId: products[0]!.id, quantity: 5 }] } },
      await asUser(userId),
    );
    assert.equal(reuse.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(reuse.body.errors![0]!.message, /already used for a different order/);
    assert.equal(await ordersWithKey(userId, key), 1);
  });

  it('cancelOrder cancels the caller’s own order, twice is a no-op, and another user gets NOT_FOUND', async () => {
    const placed = await platform.gql(
      PLACE_ORDER,
      { input: { idempotencyKey: randomUUID(), items: [{ productId: products[0]!.id, quantity: 1 }] } },
      await asUser(userId),
    );
    const id = placed.body.data.placeOrder.id;
    const cancel = 'mutation($id: ID!) { cancelOrder(id: $id) { id status } }';
    const once = await platform.gql(cancel, { id }, await asUser(userId));
    assert.deepEqual(once.body.data.cancelOrder, { id, status: 'CANCELLED' });
    const twice = await platform.gql(cancel, { id }, await asUser(userId));
    assert.deepEqual(twice.body.data.cancelOrder, { id, status: 'CANCELLED' });
    const users = await platform.gql('{ users(first: 2) { edges { node { id } } } }', {}, await adminHeaders());
    const other = users.body.data.users.edges[1].node.id;
    const stranger = await platform.gql(cancel, { id }, await asUser(other));
    assert.equal(stranger.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  it('placeOrder without a signed-in user is UNAUTHENTICATED', async () => {
    const res = await platform.gql(PLACE_ORDER, {
      input: { idempotencyKey: 'k', items: [{ productId: products[0]!.id, quantity: 1 }] },
    });
    assert.equal(res.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('createUser creates an account once per email; updateProduct changes the price on the next read', async () => {
    const email = `new-${randomUUID()}@example.com`;
    // Sign-up is anonymous and reads back no email: reading one needs a signed-in caller (README "Authorization").
    const create = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id name } }';
    const created = await platform.gql(create, { input: { email, name: 'New Person' } });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    assert.match(created.body.data.createUser.id, /^usr_\d+$/);
    const fetched = await platform.gql(
      'query($id: ID!) { user(id: $id) { email } }',
      { id: created.body.data.createUser.id },
      await asUser(created.body.data.createUser.id),
    );
    assert.equal(fetched.body.data.user.email, email);
    const duplicate = await platform.gql(create, { input: { email: email.toUpperCase(), name: 'Again' } });
    assert.equal(duplicate.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(duplicate.body.errors![0]!.message, /already registered/);

    const product = products[1]!;
    const update = await platform.gql(
      'mutation($id: ID!, $p: Int) { updateProduct(id: $id, input: { priceAmount: $p }) { price { amount formatted } } }',
      { id: product.id, p: 12345 },
      // updateProduct needs the products:write scope.
      await adminHeaders(),
    );
    assert.deepEqual(update.body.data.updateProduct.price, { amount: 12345, formatted: '$123.45' });
  });
});
