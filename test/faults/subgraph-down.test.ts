import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLoad } from '../helpers/load';
import { metric, startFaultGateway, startSubgraphProcess, timedGraphql, waitFor } from '../gateway/helpers';

const QUERY = '{ hello stock }';

test('a subgraph killed under load: partial data with SUBGRAPH_UNAVAILABLE, the breaker opens (calls while open ≤ 10% of client requests) and closes within 2 s of its return', async (t) => {
  const inventory = await startSubgraphProcess();
  t.after(() => inventory.stop());
  const gateway = await startFaultGateway(t, inventory.url);
  const base = new URL(gateway.url).origin;
  const subgraphCalls = () => metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory' });
  const breakerState = () => metric(gateway.url, 'gateway_subgraph_breaker_state', { subgraph: 'inventory' });

  const load = startLoad({
    workers: 4,
    maxRequests: 20_000,
    maxMs: 40_000,
    pauseMs: 5,
    request: () => timedGraphql(gateway.url, QUERY),
  });
  t.after(() => load.stop().then(() => undefined));
  const answered = (since: number) => load.results.filter((r) => r.at >= since);
  await waitFor(
    '20 answers with stock',
    () => answered(0).filter((r) => r.body.data?.stock === 7).length >= 20,
    10_000,
  );

  const callsAtKill = await subgraphCalls();
  const killedAt = Date.now();
  await inventory.kill();
  await waitFor('the breaker to open', async () => (await breakerState()) === 2, 5000);
  const openedAt = Date.now();
  const callsAtOpen = await subgraphCalls();
  // Readiness while only inventory is down: partial answers are possible, so the gateway stays in the load balancer.
  const ready = await fetch(`${base}/ready`);
  assert.equal(ready.status, 200);
  const health = (await (await fetch(`${base}/ready/subgraphs`)).json()) as {
    subgraphs: Record<string, { breaker: string; available: boolean }>;
  };
  assert.equal(health.subgraphs.inventory?.available, false);
  assert.equal(health.subgraphs.catalog?.breaker, 'closed');

  await waitFor(
    '300 client requests answered while the circuit is open',
    () => answered(openedAt).length >= 300,
    20_000,
  );
  const callsBeforeReturn = await subgraphCalls();
  const callsWhileOpen = callsBeforeReturn - callsAtOpen;
  const requestsWhileOpen = answered(openedAt).length;
  const callsWhileDown = callsBeforeReturn - callsAtKill;

  await inventory.restart();
  const backAt = Date.now();
  const firstSuccess = await waitFor(
    'an answer with stock after the return',
    () => answered(backAt).find((r) => r.body.data?.stock === 7),
    5000,
  );
  const closeMs = firstSuccess.at + firstSuccess.ms - backAt;
  await waitFor('the breaker to close', async () => (await breakerState()) === 0, 2000);
  const results = await load.stop();

  const down = results.filter((r) => r.at >= killedAt && r.at + r.ms < backAt);
  assert.ok(down.length >= 300);
  for (const { status, body } of down) {
    assert.equal(status, 200);
    assert.deepEqual(body.data, { hello: 'world', stock: null });
    assert.equal(body.errors?.length, 1);
    assert.equal(body.errors[0]?.extensions?.code, 'SUBGRAPH_UNAVAILABLE');
    assert.equal(body.errors[0]?.extensions?.serviceName, 'inventory');
    assert.deepEqual(body.errors[0]?.path, ['stock']);
  }
  const failFast = down.filter((r) => r.body.errors?.[0]?.extensions?.reason === 'circuit_open');
  assert.ok(failFast.length >= 0.9 * down.length, `${failFast.length} of ${down.length} answered by the open circuit`);
  assert.ok(
    callsWhileOpen <= 0.1 * requestsWhileOpen,
    `${callsWhileOpen} subgraph calls for ${requestsWhileOpen} client requests while open`,
  );
  assert.ok(closeMs <= 2000, `closed ${closeMs} ms after the subgraph's return`);
  const p50 = failFast.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(failFast.length / 2)];
  t.diagnostic(
    `down ${backAt - killedAt} ms: ${down.length} client requests; while open ${requestsWhileOpen} requests → ${callsWhileOpen} subgraph calls ` +
      `(${((100 * callsWhileOpen) / requestsWhileOpen).toFixed(1)}%); ${callsWhileDown} calls in all while down; fail-fast p50 ${p50} ms; ` +
      `closed ${closeMs} ms after the return; rejected circuit_open ${await metric(gateway.url, 'gateway_subgraph_rejected_total', { reason: 'circuit_open' })}`,
  );
});
