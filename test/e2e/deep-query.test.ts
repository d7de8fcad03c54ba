import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { encodeId } from '@commerce/kit';
import { scrape, sum } from '../helpers/metrics';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { adminHeaders } from '../helpers/tokens';

const DEEP_QUERY = /* GraphQL */ `
  query Deep($users: Int!) {
    users(first: $users) {
      edges {
        node {
          id
          name
          orders(first: 10) {
            edges {
              node {
                id
                status
                total {
                  amount
                }
                items {
                  quantity
                  unitPrice {
                    amount
                  }
                  product {
                    name
                    price {
                      amount
                      currency
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
`;

interface Expected {
  id: string;
  name: string;
  orders: { edges: { node: unknown }[] };
}

/** The same answer computed straight from the shard primaries. */
async function expectedFromDatabase(platform: TestPlatform, count: number): Promise<Expected[]> {
  const clients = await Promise.all(
    platform.shardMap.shards.map(async (s) => {
      const client = new pg.Client({ connectionString: s.primary });
      await client.connect();
      return client;
    }),
  );
  try {
    const users = (
      await Promise.all(
        clients.map((c) =>
          c.query<{ id: string; name: string }>('SELECT id::text, name FROM users ORDER BY users.id LIMIT $1', [count]),
        ),
      )
    )
      .flatMap((r) => r.rows)
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .slice(0, count);
    const products = new Map<string, { name: string; price_cents: number }>();
    for (const c of clients)
      for (const p of (await c.query('SELECT id::text, name, price_cents FROM products')).rows) products.set(p.id, p);
    const result: Expected[] = [];
    for (const user of users) {
      const shard = platform.subgraphs.orders.db.shardOf(user.id);
      const client = clients[shard]!;
      const orders = await client.query(
        'SELECT id::text, status, total_cents FROM orders WHERE user_id = $1 ORDER BY orders.id DESC LIMIT 10',
        [user.id],
      );
      const edges = [];
      for (const order of orders.rows) {
        const items = await client.query(
          'SELECT product_id::text, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY position',
          [order.id],
        );
        edges.push({
          node: {
            id: encodeId('Order', order.id),
            status: order.status,
            total: { amount: order.total_cents },
            items: items.rows.map((i) => {
              const product = products.get(i.product_id)!;
              return {
                quantity: i.quantity,
                unitPrice: { amount: i.unit_price_cents },
                product: { name: product.name, price: { amount: product.price_cents, currency: 'USD' } },
              };
            }),
          },
        });
      }
      result.push({ id: encodeId('User', user.id), name: user.name, orders: { edges } });
    }
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

interface Counts {
  statements: number;
  primary: number;
  replica: number;
  fetches: number;
}

async function counts(platform: TestPlatform): Promise<Counts> {
  const subgraphs = await Promise.all(Object.values(platform.subgraphs).map((s) => scrape(s.url)));
  const gateway = await scrape(platform.gateway.url);
  const of = (role?: string) =>
    subgraphs.reduce((n, samples) => n + sum(samples, 'db_statements_total', role ? { role } : {}), 0);
  return {
    statements: of(),
    primary: of('primary'),
    replica: of('replica'),
    fetches: sum(gateway, 'gateway_subgraph_requests_total'),
  };
}

async function measure(platform: TestPlatform, users: number) {
  const before = await counts(platform);
  // Listing users and reading everyone's orders needs the admin scope (README "Authorization").
  const response = await platform.gql(DEEP_QUERY, { users }, await adminHeaders());
  const afterCounts = await counts(platform);
  const delta = {
    statements: afterCounts.statements - before.statements,
    primary: afterCounts.primary - before.primary,
    replica: afterCounts.replica - before.replica,
    fetches: afterCounts.fetches - before.fetches,
  };
  return { response, delta };
}

describe('deep federated query: users → orders → items → product', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform();
  });
  after(() => platform?.stop());

  it('returns exactly the data in the database for 50 users', async () => {
    const { response } = await measure(platform, 50);
    assert.equal(response.status, 200);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    const users = response.body.data.users.edges.map((e: { node: Expected }) => e.node);
    assert.equal(users.length, 50);
    assert.deepEqual(users, await expectedFromDatabase(platform, 50));
    assert.ok(
      users.every((u: Expected) => u.orders.edges.length > 0),
      'every seeded user has orders',
    );
  });

  it('issues the same number of SQL statements for 10 and 100 users, at most one per shard per subgraph fetch, all on replicas', async () => {
    const small = await measure(platform, 10);
    const large = await measure(platform, 100);
    assert.equal(small.response.body.errors, undefined);
    assert.equal(large.response.body.data.users.edges.length, 100);
    const shards = platform.shardMap.shards.length;
    console.log(
      `deep query SQL statements: 10 users → ${small.delta.statements}, 100 users → ${large.delta.statements} (${small.delta.fetches} subgraph fetches, ${shards} shards)`,
    );
    assert.equal(large.delta.statements, small.delta.statements, 'statement count must not grow with the list size');
    assert.equal(small.delta.fetches, large.delta.fetches);
    assert.ok(small.delta.fetches >= 3, `the plan fetches users, orders and products (${small.delta.fetches})`);
    assert.ok(
      large.delta.statements <= shards * large.delta.fetches,
      `${large.delta.statements} statements for ${large.delta.fetches} fetches over ${shards} shards`,
    );
    assert.equal(large.delta.primary, 0, 'reads never touch a primary while replicas are healthy');
    assert.equal(large.delta.replica, large.delta.statements);
  });

  it('pages through a user’s orders with cursors, newest first, without gaps or repeats', async () => {
    const first = await platform.gql(
      '{ users(first: 1) { edges { node { id orders(first: 100) { edges { node { id } } } } } } }',
      {},
      await adminHeaders(),
    );
    const user = first.body.data.users.edges[0].node;
    const all: string[] = user.orders.edges.map((e: { node: { id: string } }) => e.node.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res = await platform.gql(
        'query($id: ID!, $after: String) { user(id: $id) { orders(first: 3, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }',
        { id: user.id, after },
        await adminHeaders(),
      );
      const orders = res.body.data.user.orders;
      seen.push(...orders.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!orders.pageInfo.hasNextPage) break;
      after = orders.pageInfo.endCursor;
    }
    assert.deepEqual(seen, all);
    const ids = all.map((id) => BigInt(id.slice(4)));
    assert.deepEqual(
      [...ids].sort((a, b) => (a > b ? -1 : 1)),
      ids,
      'newest first',
    );
  });
});
