import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphql, metric, startFaultGateway, startSubgraphProcess } from '../gateway/helpers';

test('the concurrency limit keeps at most N calls in flight at a subgraph, queues a few and refuses the rest with SUBGRAPH_UNAVAILABLE', async (t) => {
  const inventory = await startSubgraphProcess({ DELAY_MS: '300' });
  t.after(() => inventory.stop());
  const limit = 3;
  const queue = 5;
  const gateway = await startFaultGateway(t, inventory.url, {
    SUBGRAPH_MAX_CONCURRENCY_OVERRIDES: `inventory=${limit}`,
    SUBGRAPH_MAX_QUEUE_OVERRIDES: `inventory=${queue}`,
  });
  await graphql(gateway.url, '{ hello }');

  const results = await Promise.all(Array.from({ length: 20 }, () => graphql(gateway.url, '{ hello stock }')));
  const served = results.filter((r) => r.body.data?.stock === 7);
  const refused = results.filter((r) => r.body.errors?.[0]?.extensions?.reason === 'concurrency_limit');
  assert.equal(served.length + refused.length, results.length);
  assert.ok(served.length > limit, `${served.length} served: queued calls ran once a slot was free`);
  assert.ok(refused.length > 0);
  for (const { body } of refused) {
    assert.deepEqual(body.data, { hello: 'world', stock: null });
    assert.equal(body.errors?.[0]?.extensions?.code, 'SUBGRAPH_UNAVAILABLE');
    assert.equal(body.errors?.[0]?.extensions?.serviceName, 'inventory');
    assert.deepEqual(body.errors?.[0]?.path, ['stock']);
  }
  const { maxInFlight, calls } = await inventory.stats();
  assert.equal(maxInFlight, limit);
  assert.equal(calls, served.length);
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_rejected_total', {
      subgraph: 'inventory',
      reason: 'concurrency_limit',
    }),
    refused.length,
  );
  // Refusals are our limit, not the subgraph's failure: the circuit stays closed.
  assert.equal(await metric(gateway.url, 'gateway_subgraph_breaker_state', { subgraph: 'inventory' }), 0);
  t.diagnostic(
    `limit ${limit}, queue ${queue}: 20 concurrent requests → max ${maxInFlight} in flight at the subgraph, ${served.length} served, ${refused.length} refused`,
  );
});
