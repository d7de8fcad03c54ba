import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startRedis, type TestRedis } from '../helpers/redis';
import { postJson } from '../helpers/graphql';

const QUERY = 'query Top($first: Int) { products(first: $first) { edges { node { id name } } } }';
const HASH = createHash('sha256').update(QUERY).digest('hex');
const persisted = (hash = HASH, version = 1) => ({ persistedQuery: { version, sha256Hash: hash } });

const post = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  postJson(url, body, headers);

describe('automatic persisted queries, shared through Redis', () => {
  let redis: TestRedis;
  let platform: TestPlatform;
  let second: GatewayProcess;

  before(async () => {
    redis = await startRedis();
    platform = await startTestPlatform({ REDIS_URL: redis.url });
    second = await startGatewayProcess(platform, { REDIS_URL: redis.url });
  });
  after(async () => {
    await second?.stop();
    await platform?.stop();
    await redis?.stop();
  });

  it('runs Apollo Client’s flow: hash → not found → hash + query → data → hash → data, and the other instance knows the hash', async () => {
    const variables = { first: 2 };
    const unknown = await post(platform.gateway.url, { variables, extensions: persisted() });
    assert.equal(unknown.status, 200);
    assert.deepEqual(unknown.body, {
      errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
    });
    assert.equal(unknown.headers.get('cache-control'), 'private, no-cache, must-revalidate');

    const registered = await post(platform.gateway.url, { query: QUERY, variables, extensions: persisted() });
    assert.equal(registered.status, 200);
    assert.equal(registered.body.data.products.edges.length, 2);

    const byHash = await post(platform.gateway.url, { variables, extensions: persisted() });
    assert.deepEqual(byHash.body, registered.body);

    const elsewhere = await post(second.url, { variables, extensions: persisted() });
    assert.equal(elsewhere.status, 200);
    assert.deepEqual(elsewhere.body, registered.body, 'registered on one gateway, served by the other');
  });

  it('refuses a hash that does not match the query, and an unsupported version, with 400', async () => {
    const mismatch = await post(platform.gateway.url, { query: QUERY, extensions: persisted('0'.repeat(64)) });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body.errors![0]!.message, /sha/i);
    const version = await post(platform.gateway.url, { query: QUERY, extensions: persisted(HASH, 2) });
    assert.equal(version.status, 400);
    assert.match(version.body.errors![0]!.message, /version/i);
  });

  it('serves a persisted query over GET with URL-encoded variables, cacheable publicly with an ETag', async () => {
    await post(platform.gateway.url, { query: QUERY, extensions: persisted() });
    const search = new URLSearchParams({
      operationName: 'Top',
      variables: JSON.stringify({ first: 3 }),
      extensions: JSON.stringify(persisted()),
    });
    const res = await fetch(`${second.url}?${search}`, { headers: { 'apollo-require-preflight': 'true' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { products: { edges: unknown[] } } };
    assert.equal(body.data.products.edges.length, 3);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+, public/);
    assert.ok(res.headers.get('etag'));
  });

  it('accepts a full query over GET and refuses a mutation over GET with 405', async () => {
    const query = await fetch(
      `${platform.gateway.url}?query=${encodeURIComponent('query($n: Int) { products(first: $n) { edges { cursor } } }')}&variables=${encodeURIComponent('{"n":1}')}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    assert.equal(query.status, 200);
    const mutation = await fetch(
      `${platform.gateway.url}?query=${encodeURIComponent('mutation { cancelOrder(id: "ord_1") { id } }')}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    assert.equal(mutation.status, 405);
    const direct = await postGraphQL(platform.gateway.url, '{ products(first: 1) { edges { cursor } } }');
    assert.equal(direct.status, 200, 'the gateway keeps serving');
  });
});
