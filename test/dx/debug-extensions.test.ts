import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COST_REPORT_HEADER } from '../../gateway/src/features/cost/plugin';
import { post, startTwoSubgraphGateway } from './gateway';

const SPANNING = '{ product { name reviews } }';

test('with x-debug: plan,cost,cache a development response carries the query plan, cost and cache status', async (t) => {
  const gateway = await startTwoSubgraphGateway(t, { NODE_ENV: 'development' });
  // What the sandbox sends: the debug header, and the cost plugin's own report header.
  const { status, body } = await post(gateway.url, SPANNING, {
    'x-debug': 'plan,cost,cache',
    [COST_REPORT_HEADER]: '1',
  });
  assert.equal(status, 200);
  assert.deepEqual(body.data, { product: { name: 'Kettle', reviews: ['great'] } });
  const debug = body.extensions?.debug;
  assert.match(debug.queryPlan, /^QueryPlan \{\n {2}Sequence \{\n {4}Fetch\(service: "catalog"\)/);
  assert.match(debug.queryPlan, /Flatten\(path: "product"\) \{\n\s+Fetch\(service: "reviews"\)/);
  assert.deepEqual(debug.subgraphs, ['catalog', 'reviews']);
  // Read from the cost plugin's report and the response cache's status, whatever the plugin order.
  assert.equal(typeof debug.cost.estimated, 'number');
  assert.equal(typeof debug.cost.actual, 'number');
  assert.deepEqual(debug.cost, { estimated: body.extensions?.cost.estimated, actual: body.extensions?.cost.actual });
  assert.deepEqual(Object.keys(debug.cache).sort(), ['maxAge', 'scope', 'status']);
  assert.match(debug.cache.status, /^(HIT|MISS|BYPASS)$/);
});

test('asks only for what the header names, and adds nothing without it', async (t) => {
  const gateway = await startTwoSubgraphGateway(t, { NODE_ENV: 'development' });
  const plain = await post(gateway.url, SPANNING);
  assert.equal(plain.body.extensions?.debug, undefined);
  const costOnly = await post(gateway.url, SPANNING, { 'x-debug': 'cost' });
  assert.deepEqual(Object.keys(costOnly.body.extensions?.debug), ['cost']);
  // Without the cost plugin's header nobody reported a cost: the hook says so with nulls.
  assert.deepEqual(costOnly.body.extensions?.debug.cost, { estimated: null, actual: null });
  const all = await post(gateway.url, '{ hello }', { 'x-debug': 'all' });
  assert.match(all.body.extensions?.debug.queryPlan, /Fetch\(service: "catalog"\)/);
  // A request that fails validation was never planned.
  const invalid = await post(gateway.url, '{ nope }', { 'x-debug': 'plan' });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.extensions?.debug?.queryPlan ?? null, null);
});
