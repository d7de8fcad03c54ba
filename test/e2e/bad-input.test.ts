import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

describe('bad input gets a clear error and never a 5xx', () => {
  let platform: TestPlatform;
  let userId: string;

  before(async () => {
    platform = await startTestPlatform();
    userId = (await platform.gql('{ users(first: 1) { edges { node { id } } } }')).body.data.users.edges[0].node.id;
  });
  after(() => platform?.stop());

  async function assertStillServing() {
    const res = await platform.gql('{ users(first: 1) { edges { node { id } } } }');
    assert.equal(res.status, 200);
    assert.equal(res.body.data.users.edges[0].node.id, userId);
  }

  const cases: Array<{ name: string; query: string; variables?: Record<string, unknown>; code: string; message: RegExp }> = [
    { name: 'a malformed ID', query: '{ user(id: "usr_12x") { id } }', code: 'BAD_USER_INPUT', message: /malformed/ },
    { name: 'an ID of the wrong type', query: '{ product(id: "usr_4198501793793") { id } }', code: 'BAD_USER_INPUT', message: /not a Product ID \(it is a User ID\)/ },
    { name: 'an unknown ID', query: '{ user(id: "usr_4198501793799") { id } }', code: 'NOT_FOUND', message: /No user with id/ },
    { name: 'an unknown order ID', query: '{ order(id: "ord_123456789") { id } }', code: 'NOT_FOUND', message: /No order/ },
    { name: 'first below zero', query: '{ users(first: -1) { edges { cursor } } }', code: 'BAD_USER_INPUT', message: /first must be between 0 and 100, got -1/ },
    { name: 'first above the maximum', query: '{ products(first: 101) { edges { cursor } } }', code: 'BAD_USER_INPUT', message: /first must be between 0 and 100, got 101/ },
    { name: 'first above the maximum on a nested connection', query: '{ users(first: 1) { edges { node { orders(first: 1000) { edges { cursor } } } } } }', code: 'BAD_USER_INPUT', message: /got 1000/ },
    { name: 'an invalid cursor', query: '{ users(first: 2, after: "not-a-cursor") { edges { cursor } } }', code: 'BAD_USER_INPUT', message: /not a valid cursor/ },
    { name: 'a cursor that decodes to garbage', query: `{ users(first: 2, after: "${Buffer.from('c1:abc').toString('base64url')}") { edges { cursor } } }`, code: 'BAD_USER_INPUT', message: /not a valid cursor/ },
    { name: 'an unknown field', query: '{ users(first: 1) { edges { node { password } } } }', code: 'GRAPHQL_VALIDATION_FAILED', message: /password/ },
    { name: 'a syntax error', query: '{ users(first: 1) { edges ', code: 'GRAPHQL_PARSE_FAILED', message: /Syntax Error/ },
    { name: 'a variable of the wrong type', query: 'query($n: Int!) { users(first: $n) { edges { cursor } } }', variables: { n: 'ten' }, code: 'BAD_USER_INPUT', message: /\$n/ },
    { name: 'a zero-quantity order line', query: 'mutation($p: ID!) { placeOrder(input: { idempotencyKey: "q0", items: [{ productId: $p, quantity: 0 }] }) { id } }', variables: { p: 'prd_4198501793793' }, code: 'BAD_USER_INPUT', message: /quantity must be 1-1000/ },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with ${c.code}`, async () => {
      const res = await platform.gql(c.query, c.variables, { 'x-user-id': userId });
      assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `HTTP ${res.status}`);
      const error = res.body.errors?.[0];
      assert.ok(error, `expected an error, got ${JSON.stringify(res.body)}`);
      assert.equal(error.extensions?.code, c.code, JSON.stringify(res.body.errors));
      assert.match(error.message, c.message);
      await assertStillServing();
    });
  }

  it('answers request-level errors (no data) with HTTP 400 per GraphQL-over-HTTP', async () => {
    const res = await platform.gql('{ users(first: 1) { edges { node { password } } } }');
    assert.equal(res.status, 400);
    assert.equal(res.body.data, undefined);
  });

  it('answers a malformed JSON body with 400 and a GraphQL error body', async () => {
    const res = await fetch(platform.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ users { ' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    assert.equal(body.errors[0]!.extensions.code, 'BAD_REQUEST');
    assert.match(body.errors[0]!.message, /JSON/);
    await assertStillServing();
  });

  it('answers a body without a query with 400', async () => {
    const res = await fetch(platform.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"variables": {}}' });
    assert.equal(res.status, 400);
    await assertStillServing();
  });

  it('rejects a malformed x-user-id with UNAUTHENTICATED', async () => {
    const res = await platform.gql('{ me { id } }', undefined, { 'x-user-id': 'prd_1' });
    assert.equal(res.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    await assertStillServing();
  });
});
