/**
 * The README's authorization rules (README "Authorization") as a table: every
 * operation × every kind of caller → the data or the error code, through the
 * real gateway and subgraphs. For a field the gateway removes, the subgraph
 * that owns it is not called (its own request counter) and the query plan
 * (debug extensions) does not name it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SubgraphName } from '../../scripts/lib/platform';
import { startTestPlatform, type GraphQLResponse, type TestPlatform } from '../helpers/platform';
import { adminHeaders, apiKey, apiKeysEnv, asUser, authHeader, hostileTokens } from '../helpers/tokens';

type Caller =
  'anonymous' | 'userA' | 'userB' | 'admin' | 'apiKey' | 'expired' | 'otherKey' | 'algNone' | 'wrongAudience';
const HOSTILE = ['expired', 'otherKey', 'algNone', 'wrongAudience'] as const;
const SUBGRAPHS: SubgraphName[] = ['users', 'products', 'orders'];

interface Fixture {
  /** The subject of the admin's token (a seeded user). */
  admin: string;
  userA: string;
  userB: string;
  orderA: string;
  /** An order of A's that the table cancels. */
  cancellable: string;
  product: { id: string; description: string };
}

/** What a caller gets for an operation. */
type Outcome =
  | { ok: (f: Fixture, caller: Caller) => unknown }
  /** Removed by the gateway: null with this code at `path`, `data` as given, and `silent` subgraphs never called. */
  | { removed: 'UNAUTHENTICATED' | 'FORBIDDEN'; path: string[]; data: unknown; silent: SubgraphName[]; field: string }
  /** Refused by the subgraph that owns the data (ownership), with this code at `path`. */
  | { refused: 'FORBIDDEN' | 'NOT_FOUND' | 'UNAUTHENTICATED'; path: string[]; data: unknown };

interface Row {
  name: string;
  query: string;
  variables?: (f: Fixture) => Record<string, unknown>;
  expect: Record<Exclude<Caller, (typeof HOSTILE)[number]>, Outcome>;
}

const gatewayDenies = (
  code: 'UNAUTHENTICATED' | 'FORBIDDEN',
  path: string[],
  data: unknown,
  silent: SubgraphName[],
  field: string,
): Outcome => ({ removed: code, path, data, silent, field });

const ROWS: Row[] = [
  {
    name: 'users (list all users)',
    query: '{ users(first: 2) { edges { node { id name } } } }',
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['users'], null, SUBGRAPHS, 'users'),
      userA: gatewayDenies('FORBIDDEN', ['users'], null, SUBGRAPHS, 'users'),
      userB: gatewayDenies('FORBIDDEN', ['users'], null, SUBGRAPHS, 'users'),
      admin: { ok: (f) => ({ users: { edges: [{ node: { id: f.admin } }, { node: { id: f.userA } }] } }) },
      apiKey: gatewayDenies('FORBIDDEN', ['users'], null, SUBGRAPHS, 'users'),
    },
  },
  {
    name: 'user(id) { name } (public)',
    query: 'query($id: ID!) { user(id: $id) { id name } }',
    variables: (f) => ({ id: f.userA }),
    expect: Object.fromEntries(
      (['anonymous', 'userA', 'userB', 'admin', 'apiKey'] as const).map((c) => [
        c,
        { ok: (f: Fixture) => ({ user: { id: f.userA } }) },
      ]),
    ) as unknown as Row['expect'],
  },
  {
    name: "user(id) { email } (A's own)",
    query: 'query($id: ID!) { user(id: $id) { id email } }',
    variables: (f) => ({ id: f.userA }),
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['user', 'email'], { user: null }, [], 'email'),
      userA: { ok: (f) => ({ user: { id: f.userA } }) },
      userB: { refused: 'FORBIDDEN', path: ['user', 'email'], data: { user: null } },
      admin: { ok: (f) => ({ user: { id: f.userA } }) },
      apiKey: { refused: 'FORBIDDEN', path: ['user', 'email'], data: { user: null } },
    },
  },
  {
    name: "user(id) { name orders } (A's orders)",
    query: 'query($id: ID!) { user(id: $id) { name orders(first: 5) { edges { node { id } } } } }',
    variables: (f) => ({ id: f.userA }),
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['user', 'orders'], { user: null }, ['orders'], 'orders'),
      userA: { ok: () => ({ user: {} }) },
      userB: { refused: 'FORBIDDEN', path: ['user', 'orders'], data: { user: null } },
      admin: { ok: () => ({ user: {} }) },
      apiKey: { refused: 'FORBIDDEN', path: ['user', 'orders'], data: { user: null } },
    },
  },
  {
    name: "order(id) (A's order)",
    query: 'query($id: ID!) { order(id: $id) { id user { id } total { amount } } }',
    variables: (f) => ({ id: f.orderA }),
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['order'], { order: null }, SUBGRAPHS, 'order'),
      userA: { ok: (f) => ({ order: { id: f.orderA, user: { id: f.userA } } }) },
      userB: { refused: 'NOT_FOUND', path: ['order'], data: { order: null } },
      admin: { ok: (f) => ({ order: { id: f.orderA, user: { id: f.userA } } }) },
      apiKey: { refused: 'NOT_FOUND', path: ['order'], data: { order: null } },
    },
  },
  {
    name: 'me { id email } (the caller itself)',
    query: '{ me { id email } }',
    expect: {
      // Nothing to null: an anonymous `me` is null before email is reached.
      anonymous: { ok: () => ({ me: null }) },
      userA: { ok: (f) => ({ me: { id: f.userA } }) },
      userB: { ok: (f) => ({ me: { id: f.userB } }) },
      admin: { ok: (f) => ({ me: { id: f.admin } }) },
      apiKey: { ok: () => ({ me: null }) },
    },
  },
  {
    name: 'placeOrder (for the token subject)',
    query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { user { id } items { quantity } } }',
    variables: (f) => ({ input: { idempotencyKey: randomUUID(), items: [{ productId: f.product.id, quantity: 1 }] } }),
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['placeOrder'], null, SUBGRAPHS, 'placeOrder'),
      userA: { ok: (f) => ({ placeOrder: { user: { id: f.userA } } }) },
      userB: { ok: (f) => ({ placeOrder: { user: { id: f.userB } } }) },
      admin: { ok: (f) => ({ placeOrder: { user: { id: f.admin } } }) },
      // An API key is no user: nobody to order for.
      apiKey: { refused: 'UNAUTHENTICATED', path: ['placeOrder'], data: null },
    },
  },
  {
    name: "cancelOrder (A's order; B and the admin first)",
    query: 'mutation($id: ID!) { cancelOrder(id: $id) { id status } }',
    variables: (f) => ({ id: f.cancellable }),
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['cancelOrder'], null, SUBGRAPHS, 'cancelOrder'),
      userB: { refused: 'NOT_FOUND', path: ['cancelOrder'], data: null },
      admin: { refused: 'NOT_FOUND', path: ['cancelOrder'], data: null },
      apiKey: { refused: 'UNAUTHENTICATED', path: ['cancelOrder'], data: null },
      userA: { ok: (f) => ({ cancelOrder: { id: f.cancellable, status: 'CANCELLED' } }) },
    },
  },
  {
    name: 'updateProduct (products:write)',
    query: 'mutation($id: ID!, $d: String!) { updateProduct(id: $id, input: { description: $d }) { id } }',
    variables: (f) => ({ id: f.product.id, d: f.product.description }),
    expect: {
      anonymous: gatewayDenies('UNAUTHENTICATED', ['updateProduct'], null, SUBGRAPHS, 'updateProduct'),
      userA: gatewayDenies('FORBIDDEN', ['updateProduct'], null, SUBGRAPHS, 'updateProduct'),
      userB: gatewayDenies('FORBIDDEN', ['updateProduct'], null, SUBGRAPHS, 'updateProduct'),
      admin: { ok: (f) => ({ updateProduct: { id: f.product.id } }) },
      apiKey: { ok: (f) => ({ updateProduct: { id: f.product.id } }) },
    },
  },
  {
    name: 'createUser (sign-up)',
    query: 'mutation($email: String!) { createUser(input: { email: $email, name: "New" }) { name } }',
    variables: () => ({ email: `${randomUUID()}@example.com` }),
    expect: Object.fromEntries(
      (['anonymous', 'userA', 'userB', 'admin', 'apiKey'] as const).map((c) => [
        c,
        { ok: () => ({ createUser: { name: 'New' } }) },
      ]),
    ) as unknown as Row['expect'],
  },
];

/** `actual` contains everything `expected` has (objects: those keys; arrays: those first items). */
function assertContains(actual: unknown, expected: unknown, where: string): void {
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, where);
    return;
  }
  assert.ok(
    actual !== null && typeof actual === 'object',
    `${where}: expected an object, got ${JSON.stringify(actual)}`,
  );
  for (const [key, value] of Object.entries(expected))
    assertContains((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
}

describe('authorization: the README rules × every kind of caller', () => {
  let platform: TestPlatform;
  let fixture: Fixture;
  const headers = {} as Record<Caller, Record<string, string>>;
  const catalogueKey = apiKey('catalogue-sync', { scopes: ['products:write'] });
  const cases = { total: 0, removed: 0, refused: 0, ok: 0, rejected: 0 };

  before(async () => {
    // No grace after the table's own writes: the cache test below stores right away.
    platform = await startTestPlatform({ ...apiKeysEnv(catalogueKey), RESPONSE_CACHE_INVALIDATION_GRACE_MS: '0' });
    const listed = await platform.gql(
      '{ users(first: 3) { edges { node { id } } } products(first: 1) { edges { node { id description } } } }',
      {},
      await adminHeaders(),
    );
    assert.equal(listed.body.errors, undefined, JSON.stringify(listed.body.errors));
    const ids = listed.body.data.users.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
    const product = listed.body.data.products.edges[0].node as Fixture['product'];
    const place = async (user: string) => {
      const res = await platform.gql(
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
        { input: { idempotencyKey: randomUUID(), items: [{ productId: product.id, quantity: 1 }] } },
        await asUser(user),
      );
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      return res.body.data.placeOrder.id as string;
    };
    const [adminId, userA, userB] = ids as [string, string, string];
    const admin = await asUser(adminId, ['admin', 'products:write']);
    fixture = { admin: adminId, userA, userB, orderA: await place(userA), cancellable: await place(userA), product };
    Object.assign(headers, {
      anonymous: {},
      userA: await asUser(userA),
      userB: await asUser(userB),
      admin,
      apiKey: { 'x-api-key': catalogueKey.key },
      expired: authHeader(await hostileTokens.expired(userA)),
      otherKey: authHeader(await hostileTokens.otherKey(userA)),
      algNone: authHeader(await hostileTokens.algNone(userA)),
      wrongAudience: authHeader(await hostileTokens.wrongAudience(userA)),
    });
  });
  after(async () => {
    await platform?.stop();
  });

  const callsOf = async () =>
    Object.fromEntries(
      await Promise.all(
        SUBGRAPHS.map(
          async (s) => [s, await platform.metric('http_requests_total', { route: '/graphql' }, [s])] as const,
        ),
      ),
    ) as Record<SubgraphName, number>;

  async function send(
    row: Row,
    caller: Caller,
  ): Promise<{ res: GraphQLResponse; calls: Record<SubgraphName, number> }> {
    const before = await callsOf();
    const res = await platform.gql(row.query, row.variables?.(fixture), { ...headers[caller], 'x-debug': '1' });
    const afterwards = await callsOf();
    const calls = Object.fromEntries(SUBGRAPHS.map((s) => [s, afterwards[s] - before[s]])) as Record<
      SubgraphName,
      number
    >;
    return { res, calls };
  }

  for (const row of ROWS) {
    it(`${row.name}: each caller gets what the rules say`, async () => {
      for (const [caller, outcome] of Object.entries(row.expect) as [Caller, Outcome][]) {
        const where = `${row.name} as ${caller}`;
        const { res, calls } = await send(row, caller);
        cases.total++;
        const errors = res.body.errors ?? [];
        if ('ok' in outcome) {
          cases.ok++;
          assert.equal(res.status, 200, where);
          assert.deepEqual(errors, [], `${where}: ${JSON.stringify(errors)}`);
          assertContains(res.body.data, outcome.ok(fixture, caller), where);
        } else if ('removed' in outcome) {
          cases.removed++;
          assert.equal(res.status, 200, where);
          assert.deepEqual(
            errors.map((e) => [e.extensions?.code, e.path]),
            [[outcome.removed, outcome.path]],
            where,
          );
          assert.deepEqual(res.body.data, outcome.data, where);
          for (const s of outcome.silent) assert.equal(calls[s], 0, `${where}: ${s} was called for a removed field`);
          const plan = String(res.body.extensions?.debug?.queryPlan ?? '');
          assert.doesNotMatch(plan, new RegExp(`\\b${outcome.field}\\b`), `${where}: the plan asks for it`);
        } else {
          cases.refused++;
          assert.equal(res.status, 200, where);
          assert.ok(
            errors.some(
              (e) => e.extensions?.code === outcome.refused && JSON.stringify(e.path) === JSON.stringify(outcome.path),
            ),
            `${where}: ${JSON.stringify(errors)}`,
          );
          assert.deepEqual(res.body.data, outcome.data, where);
        }
      }
      for (const caller of HOSTILE) {
        const where = `${row.name} with a token ${caller}`;
        const { res, calls } = await send(row, caller);
        cases.total++;
        cases.rejected++;
        assert.equal(res.status, 401, where);
        assert.equal(res.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', where);
        assert.equal(res.body.data, undefined, where);
        assert.deepEqual(calls, { users: 0, products: 0, orders: 0 }, where);
      }
    });
  }

  it('keeps the fragments an introspection field spreads when it removes a field the caller may not see', async () => {
    const query =
      'query($id: ID!) { order(id: $id) { id } __schema { queryType { ...TypeName } } } fragment TypeName on __Type { name }';
    const res = await platform.gql(query, { id: fixture.orderA }, headers.anonymous);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data, { order: null, __schema: { queryType: { name: 'Query' } } });
    assert.deepEqual(
      res.body.errors?.map((e) => e.extensions?.code),
      ['UNAUTHENTICATED'],
    );
  });

  it('a cached answer holding a protected field is never served to a caller who may not see it (POST, GET, repeats)', async () => {
    const query = '{ users(first: 2) { edges { node { id name } } } }';
    const ask = async (method: 'GET' | 'POST', caller: Caller) => {
      const init = { ...headers[caller], 'apollo-require-preflight': 'true' };
      const response =
        method === 'GET'
          ? await fetch(`${platform.gateway.url}?query=${encodeURIComponent(query)}`, { headers: init })
          : await fetch(platform.gateway.url, {
              method: 'POST',
              headers: { ...init, 'content-type': 'application/json' },
              body: JSON.stringify({ query }),
            });
      const body = (await response.json()) as GraphQLResponse['body'];
      return { cache: response.headers.get('x-cache'), body };
    };
    for (const method of ['POST', 'GET'] as const) {
      const stored = await ask(method, 'admin');
      assert.equal(stored.body.errors, undefined, JSON.stringify(stored.body.errors));
      // Twice: the second repeat of the same bytes is the in-memory hot path's.
      for (let i = 0; i < 2; i++) assert.equal((await ask(method, 'admin')).cache, 'HIT', `${method} admin repeat`);
      for (const [caller, code] of [
        ['anonymous', 'UNAUTHENTICATED'],
        ['userA', 'FORBIDDEN'],
        ['apiKey', 'FORBIDDEN'],
      ] as const) {
        for (let i = 0; i < 2; i++) {
          const denied = await ask(method, caller);
          assert.notEqual(denied.cache, 'HIT', `${method} ${caller}`);
          assert.equal(denied.body.data, null, `${method} ${caller}`);
          assert.deepEqual(
            denied.body.errors?.map((e) => e.extensions?.code),
            [code],
            `${method} ${caller}`,
          );
        }
      }
    }
  });

  it('covers every operation of the table for all nine kinds of caller', () => {
    assert.equal(cases.total, ROWS.length * 9, JSON.stringify(cases));
  });
});
