import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLoad } from '../helpers/load';
import { graphql, metric, startFaultGateway, startSubgraphProcess, waitFor } from '../gateway/helpers';

test('a query whose subgraph connection is dropped is retried and succeeds', async (t) => {
  const inventory = await startSubgraphProcess({ DROP_FIRST: '1' });
  t.after(() => inventory.stop());
  const gateway = await startFaultGateway(t, inventory.url);
  const { body } = await graphql(gateway.url, '{ hello stock }');
  assert.deepEqual(body, { data: { hello: 'world', stock: 7 } });
  assert.equal((await inventory.stats()).calls, 2);
  assert.equal(await metric(gateway.url, 'gateway_subgraph_retries_total', { subgraph: 'inventory' }), 1);
});

test('a mutation is never retried, a query is (on HTTP 503)', async (t) => {
  const inventory = await startSubgraphProcess({ FAIL_STATUS: '503' });
  t.after(() => inventory.stop());
  const gateway = await startFaultGateway(t, inventory.url);

  const mutation = await graphql(gateway.url, 'mutation { restock }');
  assert.deepEqual(mutation.body.data, { restock: null });
  assert.equal(mutation.body.errors?.[0]?.extensions?.code, 'SUBGRAPH_UNAVAILABLE');
  assert.equal(mutation.body.errors?.[0]?.extensions?.subgraphStatus, 503);
  assert.deepEqual(mutation.body.errors?.[0]?.path, ['restock']);
  assert.equal((await inventory.stats()).calls, 1);

  const query = await graphql(gateway.url, '{ hello stock }');
  assert.deepEqual(query.body.data, { hello: 'world', stock: null });
  assert.equal((await inventory.stats()).calls, 1 + 3, 'the query: one call and two retries');
  assert.equal(await metric(gateway.url, 'gateway_subgraph_retries_total', { subgraph: 'inventory' }), 2);
});

test('the retry budget keeps retries to about 10% of the calls to a subgraph that keeps failing', async (t) => {
  const inventory = await startSubgraphProcess({ FAIL_STATUS: '503' });
  t.after(() => inventory.stop());
  // The breaker is set out of the way so that the budget alone limits the retries.
  const gateway = await startFaultGateway(t, inventory.url, { SUBGRAPH_BREAKER_FAILURES: '10000' });
  const requests = 300;
  const load = startLoad({
    workers: 4,
    maxRequests: requests,
    maxMs: 30_000,
    request: () => graphql(gateway.url, '{ hello stock }'),
  });
  t.after(() => load.stop().then(() => undefined));
  await waitFor(`${requests} answers`, () => load.results.length === requests, 30_000);
  const results = await load.stop();
  for (const { body } of results) assert.deepEqual(body.data, { hello: 'world', stock: null });
  const { calls } = await inventory.stats();
  const retries = calls - requests;
  const burst = 10;
  assert.equal(await metric(gateway.url, 'gateway_subgraph_retries_total', { subgraph: 'inventory' }), retries);
  assert.ok(retries >= 0.1 * requests - 1, `${retries} retries: the budget is spent`);
  assert.ok(retries <= 0.1 * requests + burst, `${retries} retries for ${requests} requests`);
  assert.ok(
    (await metric(gateway.url, 'gateway_subgraph_retry_budget_exhausted_total', { subgraph: 'inventory' })) > 0,
  );
  t.diagnostic(
    `${requests} requests → ${calls} subgraph calls: ${retries} retries (+${((100 * retries) / requests).toFixed(1)}% load; without a budget +200%)`,
  );
});
