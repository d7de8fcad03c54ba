import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { adminHeaders, asUser } from '../helpers/tokens';

describe('bad input gets a clear error and never a 5xx', () => {
  let platform: TestPlatform;
  let userId: string;

  before(async () => {
    platform = await startTestPlatform();
    // Listing users needs the admin scope (README "Authorization").
    userId = (await platform.gql('{ users(first: 1) { edges { node { id } } } }', {}, await adminHeaders())).body.data
      .users.edges[0].node.id;
  });
  after(() => platform?.stop());

  async function assertStillServing() {
    const res = await platform.gql('{ users(first: 1) { edges { node { id } } } }', {}, await adminHeaders());
    assert.equal(res.status, 200);
    assert.equal(res.body.data.users.edges[0].node.id, userId);
  }

  const cases: Array<{
    name: string;
    query: string;
    variables?: Record<string, unknown>;
    code: string;
    message: RegExp;
  }> = [
    { name: 'a malformed ID', query: '{ user(id: "usr_12x") { id } }', code: 'BAD_USER_INPUT', message: /malformed/ },
    {
      name: 'an ID of the wrong type',
      query: '{ product(id: "usr_4198501793793") { id } }',
      code: 'BAD_USER_INPUT',
      message: /not a Product ID \(it is a User ID\)/,
    },
    {
      name: 'an unknown ID',
      query: '{ user(id: "usr_4198501793799") { id } }',
      code: 'NOT_FOUND',
      message: /No user with id/,
    },
    {
      name: 'an unknown order ID',
      query: '{ order(id: "ord_123456789") { id } }',
      code: 'NOT_FOUND',
      message: /No order/,
    },
    {
      name: 'first below zero',
      query: '{ users(first: -1) { edges { cursor } } }',
      code: 'BAD_USER_INPUT',
      message: /first must be between 0 and 100, got -1/,
    },
    {
      name: 'first above the maximum',
      query: '{ products(first: 101) { edges { cursor } } }',
      code: 'BAD_USER_INPUT',
      message: /first must be between 0 and 100, got 101/,
    },
    {
      name: 'first above the maximum on a nested connection',
      query: '{ users(first: 1) { edges { node { orders(first: 1000) { edges { cursor } } } } } }',
      code: 'BAD_USER_INPUT',
      message: /got 1000/,
    },
    {
      name: 'an invalid cursor',
      query: '{ users(first: 2, after: "not-a-cursor") { edges { cursor } } }',
      code: 'BAD_USER_INPUT',
      message: /not a valid cursor/,
    },
    {
      name: 'a cursor that decodes to garbage',
      query: `{ users(first: 2, after: "${Buffer.from('c1:abc').toString('base64url')}") { edges { cursor } } }`,
      code: 'BAD_USER_INPUT',
      message: /not a valid cursor/,
    },
    {
      name: 'an unknown field',
      query: '{ users(first: 1) { edges { node { password } } } }',
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: /password/,
    },
    {
      name: 'a syntax error',
      query: '{ users(first: 1) { edges ',
      code: 'GRAPHQL_PARSE_FAILED',
      message: /Syntax Error/,
    },
    {
      name: 'a variable of the wrong type',
      query: 'query($n: Int!) { users(first: $n) { edges { cursor } } }',
      variables: { n: 'ten' },
      code: 'BAD_USER_INPUT',
      message: /\$n/,
    },
    {
      name: 'a zero-quantity order line',
      query:
        'mutation($p: ID!) { placeOrder(input: { idempotencyKey: "q0", items: [{ productId: $p, quantity: 0 }] }) { id } }',
      variables: { p: 'prd_4198501793793' },
      code: 'BAD_USER_INPUT',
      message: /quantity must be 1-1000/,
    },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with ${c.code}`, async () => {
      // The admin scope: several cases list users (bad `first`, bad cursors); the input is what is wrong.
      const res = await platform.gql(c.query, c.variables, await asUser(userId, ['admin']));
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
    const res = await fetch(platform.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ users { ',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    assert.equal(body.errors[0]!.extensions.code, 'BAD_REQUEST');
    assert.match(body.errors[0]!.message, /JSON/);
    await assertStillServing();
  });

  it('answers a body without a query with 400', async () => {
    const res = await fetch(platform.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"variables": {}}',
    });
    assert.equal(res.status, 400);
    await assertStillServing();
  });

  const bomb = (n: number): string =>
    `query { ...F${n} }\nfragment F0 on Query { __typename }\n${Array.from({ length: n }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`).join('\n')}`;
  const json = { 'content-type': 'application/json' };
  const raw: Array<{ name: string; status: number; code: string; init: RequestInit; search?: string }> = [
    {
      name: 'two operations without operationName',
      status: 400,
      code: 'BAD_REQUEST',
      init: { body: JSON.stringify({ query: 'query A { __typename } query B { __typename }' }) },
    },
    {
      name: 'an unknown operationName',
      status: 400,
      code: 'BAD_REQUEST',
      init: { body: JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }) },
    },
    {
      name: 'an operationName for an anonymous operation',
      status: 400,
      code: 'BAD_REQUEST',
      init: { body: JSON.stringify({ query: '{ __typename }', operationName: 'A' }) },
    },
    {
      name: 'a document with fragments only',
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      init: { body: JSON.stringify({ query: 'fragment F on Query { __typename }' }) },
    },
    {
      name: 'a subscription over HTTP',
      status: 400,
      code: 'OPERATION_NOT_SUPPORTED',
      init: { body: JSON.stringify({ query: 'subscription { __typename }' }) },
    },
    {
      name: 'variables nested 200,000 arrays deep',
      status: 400,
      code: 'BAD_USER_INPUT',
      init: {
        body: `{"query":"query($v: Int) { __typename }","variables":{"v":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`,
      },
    },
    {
      name: 'variables nested 65 objects deep in a GET',
      status: 400,
      code: 'BAD_USER_INPUT',
      init: { method: 'GET', headers: { 'apollo-require-preflight': '1' } },
      search: `?query=%7B__typename%7D&variables=${encodeURIComponent(`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`)}`,
    },
    {
      name: "an APQ hash that is not the query's",
      status: 400,
      code: 'PERSISTED_QUERY_HASH_MISMATCH',
      init: {
        body: JSON.stringify({
          query: '{ __typename }',
          extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
        }),
      },
    },
    {
      name: 'an unsupported APQ version',
      status: 400,
      code: 'BAD_REQUEST',
      init: {
        body: JSON.stringify({
          query: '{ __typename }',
          extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } },
        }),
      },
    },
    {
      name: 'a body that is not UTF-8',
      status: 400,
      code: 'BAD_REQUEST',
      init: {
        body: Buffer.concat([Buffer.from('{"query":"{ __typename }'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      },
    },
    {
      name: 'a batch (JSON array)',
      status: 400,
      code: 'BAD_REQUEST',
      init: { body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]) },
    },
    {
      name: 'a text/plain body',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      init: { body: JSON.stringify({ query: '{ __typename }' }), headers: { 'content-type': 'text/plain' } },
    },
    {
      name: 'malformed variables in a GET',
      status: 400,
      code: 'BAD_REQUEST',
      init: { method: 'GET', headers: { 'apollo-require-preflight': '1' } },
      search: '?query=%7B__typename%7D&variables=%7B',
    },
    {
      name: 'a mutation in a GET',
      status: 405,
      code: 'BAD_REQUEST',
      init: { method: 'GET', headers: { 'apollo-require-preflight': '1' } },
      search: `?query=${encodeURIComponent('mutation { __typename }')}`,
    },
    {
      name: 'a document over MAX_TOKENS',
      status: 400,
      code: 'MAX_TOKENS_EXCEEDED',
      init: { body: JSON.stringify({ query: `{ ${'__typename '.repeat(2001)}}` }) },
    },
    {
      name: 'a root fragment bomb (n = 30)',
      status: 400,
      code: 'MAX_ROOT_FIELDS_EXCEEDED',
      init: { body: JSON.stringify({ query: bomb(30) }) },
    },
    {
      name: 'a fragment cycle',
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      init: {
        body: JSON.stringify({ query: 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }),
      },
    },
  ];

  for (const c of raw) {
    it(`answers ${c.name} with HTTP ${c.status} ${c.code}`, async () => {
      const response = await fetch(`${platform.gateway.url}${c.search ?? ''}`, {
        method: 'POST',
        ...c.init,
        headers: { ...json, ...c.init.headers },
      });
      const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      assert.equal(response.status, c.status, JSON.stringify(body));
      assert.equal(body.errors?.[0]?.extensions?.code, c.code, JSON.stringify(body));
      await assertStillServing();
    });
  }

  it('answers a request with an oversized header with HTTP 431', async () => {
    const response = await fetch(platform.gateway.url, {
      method: 'POST',
      headers: { ...json, 'x-big': 'h'.repeat(20_000) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    assert.equal(response.status, 431);
    await assertStillServing();
  });

  it('rejects a token whose subject is not a user ID with 401 UNAUTHENTICATED', async () => {
    const res = await platform.gql('{ me { id } }', undefined, await asUser('prd_1'));
    assert.equal(res.status, 401);
    assert.equal(res.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    await assertStillServing();
  });
});
