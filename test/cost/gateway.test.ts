import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric, waitFor } from '../gateway/helpers';
import { apiKey, apiKeysEnv, asUser } from '../helpers/tokens';
import { SHOP, params, post, startCostGateway, startCostSubgraphs } from './helpers';

const user = (id: string) => asUser(id);
const key1 = apiKey('key-1');
const trustedKey = apiKey('trusted');
const otherKey = apiKey('other');

describe('cost limits at the gateway', () => {
  it('refuses an operation over COST_MAX before calling any subgraph', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '1000',
    });
    const before = await metric(gateway.url, 'gateway_subgraph_requests_total');
    const { status, body, headers } = await post(gateway.url, '{ costly { id } }');
    assert.equal(status, 400);
    assert.equal(body.errors?.[0]?.extensions?.code, 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.deepEqual(body.errors?.[0]?.extensions?.cost, { estimated: 500, max: 100 });
    assert.equal(await metric(gateway.url, 'gateway_subgraph_requests_total'), before, 'no subgraph fetch');
    assert.equal(params(headers.get('ratelimit')).r, 1000, 'nothing was charged');
    assert.equal((await post(gateway.url, '{ items(first: 100) { id } }')).status, 200, 'at the maximum is allowed');
  });

  it('refuses a field whose @listSize requires a slicing argument it did not get, as BAD_USER_INPUT', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '1000',
    });
    const { status, body } = await post(gateway.url, '{ page { id } }');
    assert.equal(status, 400);
    assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(
      body.errors?.[0]?.message ?? '',
      /Query\.page needs exactly one of its slicing arguments \(first\), got 0/,
    );
    assert.equal((await post(gateway.url, '{ page(first: 3) { id } }')).status, 200);
  });

  it('answers 429 with Retry-After and RateLimit headers once a client has spent its budget; other clients are unaffected', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '100',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
      ...apiKeysEnv(key1),
    });
    const query = '{ items(first: 40) { id } }';
    const first = await post(gateway.url, query, { headers: await user('usr_a') });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-policy'), '"cost";q=100;w=100000');
    assert.equal(params(first.headers.get('ratelimit')).r, 60);
    assert.equal(
      params((await post(gateway.url, query, { headers: await user('usr_a') })).headers.get('ratelimit')).r,
      20,
    );

    const before = await metric(gateway.url, 'gateway_subgraph_requests_total');
    const refused = await post(gateway.url, query, { headers: await user('usr_a') });
    assert.equal(refused.status, 429);
    const error = refused.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'RATE_LIMITED');
    assert.equal(error?.extensions?.rateLimit.remaining, 20);
    assert.equal(params(refused.headers.get('ratelimit')).r, 20);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.equal(retryAfter, error?.extensions?.rateLimit.retryAfter);
    assert.ok(retryAfter > 19_000 && retryAfter <= 20_000, `(40 - 20) points at 0.001/s, got ${retryAfter}`);
    assert.equal(error?.extensions?.rateLimit.reset, params(refused.headers.get('ratelimit')).t);
    assert.equal(
      await metric(gateway.url, 'gateway_subgraph_requests_total'),
      before,
      'a refused operation calls no subgraph',
    );

    const other = await post(gateway.url, query, { headers: await user('usr_b') });
    assert.equal(other.status, 200, 'another user has a budget of their own');
    assert.equal(params(other.headers.get('ratelimit')).r, 60);
    const byKey = await post(gateway.url, query, { headers: { 'x-api-key': key1.key } });
    assert.equal(params(byKey.headers.get('ratelimit')).r, 60, 'an API key has its own budget');
    const byIp = await post(gateway.url, query);
    assert.equal(params(byIp.headers.get('ratelimit')).r, 60, 'so has an anonymous client IP');
    assert.equal(
      await metric(gateway.url, 'gateway_cost_limit_exceeded_total', { reason: 'budget', mode: 'enforce' }),
      1,
    );
  });

  it('refills the budget at the configured rate', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '100',
      COST_BUDGET_REFILL_PER_SECOND: '50',
    });
    const query = '{ items(first: 60) { id } }';
    assert.equal((await post(gateway.url, query, { headers: await user('usr_r') })).status, 200);
    const refused = await post(gateway.url, query, { headers: await user('usr_r') });
    assert.equal(refused.status, 429);
    const left = params(refused.headers.get('ratelimit')).r!;
    assert.equal(
      Number(refused.headers.get('retry-after')),
      Math.ceil((60 - left) / 50),
      'Retry-After follows from the refill rate',
    );
    assert.equal(params(refused.headers.get('ratelimit')).t, Math.ceil((100 - left) / 50));
    await waitFor(
      'the budget to refill',
      async () => (await post(gateway.url, query, { headers: await user('usr_r') })).status === 200,
      10_000,
    );
  });

  it('charges only the actual cost when lists come back shorter than estimated, and reports both on request', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '1000',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
    });
    const query = '{ few(first: 10) { id name } }';
    const reported = await post(gateway.url, query, { headers: { ...(await user('usr_f')), 'x-cost-report': '1' } });
    assert.equal(reported.body.data.few.length, 2);
    assert.deepEqual(reported.body.extensions?.cost, { estimated: 10, actual: 2, max: 100, mode: 'enforce' });
    assert.equal(reported.headers.get('x-cost-estimated'), '10');
    assert.equal(reported.headers.get('x-cost-actual'), '2');
    assert.equal(params(reported.headers.get('ratelimit')).r, 998, 'the 8 points estimated but not used were refunded');
    const plain = await post(gateway.url, query, { headers: await user('usr_f') });
    assert.equal(params(plain.headers.get('ratelimit')).r, 996);
    assert.equal(plain.body.extensions, undefined, 'no report unless asked');
    assert.equal(plain.headers.get('x-cost-estimated'), null);
    assert.equal(await metric(gateway.url, 'gateway_operation_cost_sum', { kind: 'estimated' }), 20);
    assert.equal(await metric(gateway.url, 'gateway_operation_cost_sum', { kind: 'actual' }), 4);
  });

  it('in measure mode, reports but never refuses', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'measure',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '600',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
    });
    const headers = { ...(await user('usr_m')), 'x-cost-report': '1' };
    const costly = await post(gateway.url, '{ costly { id } }', { headers });
    assert.equal(costly.status, 200);
    assert.deepEqual(costly.body.data, { costly: { id: 'c' } });
    assert.equal(costly.body.extensions?.cost.estimated, 500);
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await post(gateway.url, '{ costly { id } }', { headers })).status,
        200,
        'over budget, still served',
      );
    assert.equal(
      await metric(gateway.url, 'gateway_cost_limit_exceeded_total', { reason: 'too_expensive', mode: 'measure' }),
      3,
    );
    assert.equal(
      await metric(gateway.url, 'gateway_cost_limit_exceeded_total', { reason: 'budget', mode: 'measure' }),
      2,
      '600 points: the second and third were over budget',
    );
  });

  it('gives clients named in COST_BUDGET_OVERRIDES their own budget', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '100',
      COST_BUDGET_OVERRIDES: 'apikey:trusted=5000/50,user:usr_vip=300/3',
      ...apiKeysEnv(trustedKey, otherKey),
    });
    const trusted = await post(gateway.url, '{ items(first: 1) { id } }', { headers: { 'x-api-key': trustedKey.key } });
    assert.equal(trusted.headers.get('ratelimit-policy'), '"cost";q=5000;w=100');
    assert.equal(params(trusted.headers.get('ratelimit')).r, 4999);
    const vip = await post(gateway.url, '{ items(first: 1) { id } }', { headers: await user('usr_vip') });
    assert.equal(vip.headers.get('ratelimit-policy'), '"cost";q=300;w=100');
    const other = await post(gateway.url, '{ items(first: 1) { id } }', { headers: { 'x-api-key': otherKey.key } });
    assert.equal(other.headers.get('ratelimit-policy'), '"cost";q=100;w=1');
  });

  it('reports the budget on responses that charged nothing, and is silent with COST_MODE=off', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [SHOP]);
    const on = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      COST_MODE: 'enforce',
      COST_MAX: '100',
      COST_BUDGET_CAPACITY: '100',
    });
    const invalid = await post(on.url, '{ nope }');
    assert.equal(invalid.status, 400);
    assert.equal(params(invalid.headers.get('ratelimit')).r, 100);
    const off = await startCostGateway(t, { SUPERGRAPH_PATH: supergraphPath, COST_MODE: 'off' });
    const served = await post(off.url, '{ costly { id } }');
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('ratelimit'), null);
    assert.equal(served.headers.get('ratelimit-policy'), null);
  });
});
