import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metric, startFaultGateway, startSubgraphProcess, timedGraphql, type GraphQLResult } from '../gateway/helpers';

type Timed = GraphQLResult & { ms: number };

function assertCut(result: Timed, reason: string, path: string[]): void {
  assert.equal(result.status, 200);
  const error = result.body.errors?.[0];
  assert.equal(result.body.errors?.length, 1);
  assert.equal(error?.extensions?.code, 'GATEWAY_TIMEOUT');
  assert.equal(error?.extensions?.reason, reason);
  assert.equal(error?.extensions?.serviceName, 'inventory');
  assert.deepEqual(error?.path, path);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

test('a subgraph slower than its timeout: calls fail at the per-subgraph timeout with the rest of the plan, then the breaker fails fast', async (t) => {
  const inventory = await startSubgraphProcess({ DELAY_MS: '3000' });
  t.after(() => inventory.stop());
  // The default timeout stays long; the override makes inventory's 500 ms.
  const gateway = await startFaultGateway(t, inventory.url, {
    SUBGRAPH_TIMEOUT_MS: '5000',
    SUBGRAPH_TIMEOUT_MS_OVERRIDES: 'inventory=500',
  });

  await timedGraphql(gateway.url, '{ hello }'); // plans and connects: the latencies below are the timeout's
  const root = await Promise.all([1, 2, 3].map(() => timedGraphql(gateway.url, '{ hello stock }')));
  for (const result of root) {
    assertCut(result, 'timeout', ['stock']);
    assert.deepEqual(result.body.data, { hello: 'world', stock: null });
    assert.match(result.body.errors?.[0]?.message ?? '', /500 ms \(SUBGRAPH_TIMEOUT_MS\)/);
    assert.ok(result.ms >= 480 && result.ms < 1500, `answered in ${result.ms} ms`);
  }
  const entity = await timedGraphql(gateway.url, '{ product { name stock } }');
  assertCut(entity, 'timeout', ['product']);
  assert.deepEqual(entity.body.data, { product: { name: 'Lamp', stock: null } });

  // Timeouts count as failures: the fifth in a row opens the circuit and the next calls fail fast.
  const more: Timed[] = [];
  for (let i = 0; i < 4; i++) more.push(await timedGraphql(gateway.url, '{ hello stock }'));
  const failFast = more.filter((r) => r.body.errors?.[0]?.extensions?.reason === 'circuit_open');
  assert.ok(failFast.length >= 2, `${failFast.length} of ${more.length} answered by the open circuit`);
  for (const result of failFast) {
    assert.deepEqual(result.body.data, { hello: 'world', stock: null });
    assert.ok(result.ms < 400, `fail-fast answer in ${result.ms} ms`);
  }
  assert.equal(await metric(gateway.url, 'gateway_subgraph_breaker_state', { subgraph: 'inventory' }), 2);
  t.diagnostic(
    `timeout 500 ms: median latency ${median([...root, entity].map((r) => r.ms))} ms; ` +
      `open circuit: median ${median(failFast.map((r) => r.ms))} ms (${failFast.length} of ${more.length})`,
  );
});

test('a subgraph slower than the request deadline: its call is cut at GATEWAY_REQUEST_TIMEOUT_MS and the rest of the plan arrives', async (t) => {
  const inventory = await startSubgraphProcess({ DELAY_MS: '3000' });
  t.after(() => inventory.stop());
  const gateway = await startFaultGateway(t, inventory.url, {
    SUBGRAPH_TIMEOUT_MS: '5000',
    GATEWAY_REQUEST_TIMEOUT_MS: '800',
  });

  await timedGraphql(gateway.url, '{ hello }');
  const results = await Promise.all([1, 2].map(() => timedGraphql(gateway.url, '{ product { name stock } }')));
  for (const result of results) {
    assertCut(result, 'deadline', ['product']);
    assert.deepEqual(result.body.data, { product: { name: 'Lamp', stock: null } });
    assert.match(result.body.errors?.[0]?.message ?? '', /GATEWAY_REQUEST_TIMEOUT_MS/);
    assert.ok(result.ms >= 780 && result.ms < 1800, `answered in ${result.ms} ms`);
  }
  // A deadline is the request's budget, not the subgraph's fault: the circuit stays closed.
  assert.equal(await metric(gateway.url, 'gateway_subgraph_breaker_state', { subgraph: 'inventory' }), 0);
  t.diagnostic(`deadline 800 ms: latencies ${results.map((r) => r.ms).join(', ')} ms`);
});
