import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metric, tempDir } from '../gateway/helpers';
import { startGatewayProcess } from '../helpers/gateway-process';
import { startRedis } from '../helpers/redis';
import { params, post, startCostGateway, startCostSubgraphs, type SubgraphSpec } from './helpers';
import { asUser } from '../helpers/tokens';

/** A shop whose lists may be cached for a minute: repeats are answered by the in-memory hot path. */
const CACHED_SHOP: SubgraphSpec = {
  name: 'shop',
  typeDefs: /* GraphQL */ `
    directive @cacheControl(
      maxAge: Int
      scope: CacheControlScope
      inheritMaxAge: Boolean
    ) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
    enum CacheControlScope {
      PUBLIC
      PRIVATE
    }
    type Item @key(fields: "id") {
      id: ID!
      name: String!
    }
    type Query {
      items(first: Int = 10): [Item!]! @listSize(slicingArguments: ["first"]) @cacheControl(maxAge: 60)
    }
  `,
  resolvers: {
    Query: {
      items: (_: unknown, { first }: { first: number }) =>
        Array.from({ length: Math.min(first, 100) }, (_, i) => ({ id: `i${i}`, name: `Item ${i}` })),
    },
  },
};

/** Costs 5: five items, each an object. */
const FIVE = '{ items(first: 5) { id } }';

describe('every request passes the same policies, cache hits included', () => {
  it('refuses a client over budget with 429 on a cached answer (hot path) and counts hits as operations', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [CACHED_SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      FIELD_RATE_LIMITS: 'none',
      COST_MODE: 'enforce',
      COST_MAX: '30',
      COST_BUDGET_CAPACITY: '30',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
    });
    const ok = () => metric(gateway.url, 'gateway_operations_total', { type: 'query', result: 'ok' });
    const user = await asUser('usr_budget');
    const first = await post(gateway.url, FIVE, { headers: user });
    assert.equal(first.headers.get('x-cache'), 'MISS');
    const okBefore = await ok();
    for (let i = 1; i < 6; i++) {
      const hit = await post(gateway.url, FIVE, { headers: user });
      assert.equal(hit.status, 200);
      assert.equal(hit.headers.get('x-cache'), 'HIT', `request ${i + 1} is a cache hit`);
      assert.equal(params(hit.headers.get('ratelimit')).r, 30 - 5 * (i + 1), 'each hit is charged its cost');
    }
    assert.equal((await ok()) - okBefore, 5, 'every hit counted in gateway_operations_total');
    const refused = await post(gateway.url, FIVE, { headers: user });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(refused.body.errors?.[0]?.extensions?.http, undefined, 'shaped as Apollo Server shapes a refusal');
    assert.equal(refused.body.errors?.[0]?.extensions?.rateLimit.remaining, 0);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After on the refused hit');
    assert.ok(refused.headers.get('x-request-id'), 'the refused hit carries its request id');
    assert.equal(
      await metric(gateway.url, 'gateway_operations_total', { type: 'query', result: 'error' }),
      1,
      'the refused hit counted as an error',
    );
    const other = await post(gateway.url, FIVE, { headers: await asUser('usr_other') });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-cache'), 'HIT', 'another client is served the cached answer');
  });

  it('applies a Query field rate limit to cached answers, one call per alias', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [CACHED_SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'off',
      FIELD_RATE_LIMITS: 'Query.items=4/1m@principal',
    });
    const user = await asUser('usr_fields');
    assert.equal((await post(gateway.url, FIVE, { headers: user })).headers.get('x-cache'), 'MISS');
    assert.equal((await post(gateway.url, FIVE, { headers: user })).headers.get('x-cache'), 'HIT');
    const twice = '{ a: items(first: 1) { id } b: items(first: 2) { id } }';
    assert.equal((await post(gateway.url, twice, { headers: user })).status, 200, 'calls 3 and 4');
    const refused = await post(gateway.url, FIVE, { headers: user });
    assert.equal(refused.status, 429, 'a fifth call, from the cache, is over the limit');
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(refused.body.errors?.[0]?.extensions?.rateLimit.field, 'Query.items');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(
      (await post(gateway.url, FIVE, { headers: await asUser('usr_else') })).status,
      200,
      'another principal still may',
    );
  });

  it('keeps warm-up requests out of every request metric and every budget', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [CACHED_SHOP]);
    const dir = await tempDir();
    t.after(() => dir.remove());
    const manifest = join(dir.path, 'manifest.json');
    const operations = [
      { id: 'a'.repeat(64), name: 'Five', type: 'query', body: 'query Five { items(first: 5) { id } }' },
      { id: 'b'.repeat(64), name: 'Many', type: 'query', body: 'query Many($n: Int) { items(first: $n) { id name } }' },
    ];
    await writeFile(manifest, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }));
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      TRUSTED_DOCUMENTS: 'allow',
      TRUSTED_DOCUMENTS_PATH: manifest,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '100',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
    });
    assert.ok((await metric(gateway.url, 'gateway_plan_warmup_seconds')) > 0, 'the warm-up ran');
    for (const name of [
      'gateway_operations_total',
      'gateway_response_cache_total',
      'gateway_operation_cost_count',
      'gateway_trusted_documents_total',
    ]) {
      assert.equal(await metric(gateway.url, name), 0, `${name} saw no warm-up request`);
    }
    const first = await post(gateway.url, 'query Five { items(first: 5) { id } }', {
      headers: await asUser('usr_warm'),
    });
    assert.equal(first.status, 200);
    assert.equal(params(first.headers.get('ratelimit')).r, 95, 'the budget starts full: warm-up charged nothing');
    assert.equal(await metric(gateway.url, 'gateway_operations_total'), 1);
  });

  it('shares one budget across two gateway processes through leases: within capacity + one lease per instance', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const { supergraphPath, subgraphs } = await startCostSubgraphs(t, [CACHED_SHOP]);
    const capacity = 200;
    const lease = 20; // 10 % of the capacity
    const env = {
      NODE_ENV: 'test',
      SUPERGRAPH_PATH: supergraphPath,
      REDIS_URL: redis.url,
      FIELD_RATE_LIMITS: 'none',
      COST_MODE: 'enforce',
      COST_MAX: '50',
      COST_BUDGET_CAPACITY: String(capacity),
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
      COST_BUDGET_LEASE_PERCENT: '10',
      COST_BUDGET_LEASE_MS: '60000',
    };
    const gateways = await Promise.all(
      [0, 1].map(async () => {
        const gateway = await startGatewayProcess({ subgraphs: { shop: subgraphs[0]! } }, env);
        t.after(() => gateway.stop());
        return gateway.url;
      }),
    );
    const user = await asUser('usr_leased');
    let allowed = 0;
    let refused = 0;
    // 30 bursts of 4 concurrent requests (2 per instance): 120 × 5 points asked, 600 > 200 + 2 leases.
    for (let burst = 0; burst < 30; burst++) {
      const replies = await Promise.all([0, 1, 0, 1].map((which) => post(gateways[which]!, FIVE, { headers: user })));
      for (const reply of replies) {
        assert.ok(reply.status === 200 || reply.status === 429, `200 or 429, got ${reply.status}`);
        if (reply.status === 200) allowed++;
        else refused++;
      }
    }
    const spent = allowed * 5;
    assert.ok(
      spent <= capacity + 2 * lease,
      `spent ${spent} <= capacity ${capacity} + one lease (${lease}) per instance`,
    );
    // At most one lease per instance may sit unspent: the budget is one, shared, not one per instance.
    assert.ok(spent >= capacity - 2 * lease, `spent ${spent} >= capacity - one unspent lease per instance`);
    assert.ok(refused > 0);
    const hits = await Promise.all(
      gateways.map((url) => metric(url, 'gateway_response_cache_total', { result: 'hit' })),
    );
    assert.ok(
      hits.every((n) => n > 0),
      `both instances answered hits: ${hits.join(', ')}`,
    );
  });
});
