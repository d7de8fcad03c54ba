import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { listen } from '@commerce/common';
import { loadGatewayConfig, startGateway } from '@commerce/gateway';
import { pino } from 'pino';
import {
  gate,
  graphql,
  metric,
  startSubgraph,
  startSubgraphProcess,
  startTestGateway,
  waitFor,
  writeSupergraph,
} from './helpers';

const catalogSdl = 'type Query { hello: String }';
const inventorySdl = 'type Query { stock: Int }';

/** A URL on which nothing listens: a port that was free a moment ago. */
async function deadUrl(): Promise<string> {
  const listening = await listen(() => undefined, { path: '/graphql' });
  await listening.close();
  return listening.url;
}

async function setup(
  t: { after(fn: () => Promise<void>): void },
  inventoryUrl: string,
  env: Record<string, string> = {},
) {
  const catalog = await startSubgraph('catalog', catalogSdl, { Query: { hello: () => 'world' } });
  t.after(() => catalog.stop());
  const path = await writeSupergraph(t, [
    { name: 'catalog', url: catalog.url, typeDefs: catalogSdl },
    { name: 'inventory', url: inventoryUrl, typeDefs: inventorySdl },
  ]);
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: path, ...env });
  t.after(() => gateway.stop());
  return gateway;
}

test('answers partial data and SUBGRAPH_UNAVAILABLE naming the service and path when a subgraph is down', async (t) => {
  const gateway = await setup(t, await deadUrl());
  const reasons: unknown[] = [];
  for (let i = 0; i < 2; i++) {
    const { status, body } = await graphql(gateway.url, '{ hello stock }');
    assert.equal(status, 200);
    assert.deepEqual(body.data, { hello: 'world', stock: null });
    assert.equal(body.errors?.length, 1);
    assert.equal(body.errors[0]?.extensions?.code, 'SUBGRAPH_UNAVAILABLE');
    assert.equal(body.errors[0]?.extensions?.serviceName, 'inventory');
    assert.deepEqual(body.errors[0]?.path, ['stock']);
    reasons.push(body.errors[0]?.extensions?.reason);
  }
  // 1 call + 2 retries, then 2 more calls: the 5th consecutive failure opens the circuit and the last retry fails fast.
  assert.deepEqual(reasons, ['connection_failed', 'circuit_open']);
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory', result: 'unavailable' }),
    5,
  );
  assert.equal(await metric(gateway.url, 'gateway_subgraph_retries_total', { subgraph: 'inventory' }), 4);
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_rejected_total', { subgraph: 'inventory', reason: 'circuit_open' }),
    1,
  );
  assert.equal(await metric(gateway.url, 'gateway_subgraph_breaker_state', { subgraph: 'inventory' }), 2);
  assert.equal(await metric(gateway.url, 'gateway_operations_total', { type: 'query', result: 'error' }), 2);
  assert.deepEqual((await graphql(gateway.url, '{ hello }')).body, { data: { hello: 'world' } });
});

test('answers GATEWAY_TIMEOUT naming the service when a subgraph is slower than SUBGRAPH_TIMEOUT_MS', async (t) => {
  const release = gate();
  const slow = await startSubgraph('inventory', inventorySdl, {
    Query: {
      stock: async () => {
        await release.promise;
        return 1;
      },
    },
  });
  t.after(async () => {
    release.open();
    await slow.stop();
  });
  const gateway = await setup(t, slow.url, { SUBGRAPH_TIMEOUT_MS: '150' });
  const { status, body } = await graphql(gateway.url, '{ hello stock }');
  assert.equal(status, 200);
  assert.deepEqual(body.data, { hello: 'world', stock: null });
  assert.equal(body.errors?.[0]?.extensions?.code, 'GATEWAY_TIMEOUT');
  assert.equal(body.errors?.[0]?.extensions?.serviceName, 'inventory');
  assert.match(body.errors?.[0]?.message ?? '', /SUBGRAPH_TIMEOUT_MS/);
  assert.equal(slow.received.length, 1);
  for (const hint of ['x-commerce-deadline', 'x-commerce-operation'])
    assert.equal(slow.received[0]?.[hint], undefined, `${hint} is never sent`);
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory', result: 'timeout' }),
    1,
  );
  assert.deepEqual((await graphql(gateway.url, '{ hello }')).body, { data: { hello: 'world' } });
});

test('answers SUBGRAPH_UNAVAILABLE when a subgraph answers with a non-GraphQL HTTP error', async (t) => {
  const broken = await listen(
    (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<h1>upstream exploded: password=hunter2</h1>');
    },
    { path: '/graphql' },
  );
  t.after(() => broken.close());
  const gateway = await setup(t, broken.url);
  const { status, body } = await graphql(gateway.url, '{ hello stock }');
  assert.equal(status, 200);
  assert.deepEqual(body.data, { hello: 'world', stock: null });
  assert.equal(body.errors?.[0]?.extensions?.code, 'SUBGRAPH_UNAVAILABLE');
  assert.equal(body.errors?.[0]?.extensions?.serviceName, 'inventory');
  assert.equal(body.errors?.[0]?.extensions?.subgraphStatus, 503);
  assert.doesNotMatch(JSON.stringify(body), /hunter2/);
  // A 503 is retried (twice by default) for a query.
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory', result: 'http_error' }),
    3,
  );
});

test('/ready is 503 only while every subgraph circuit is open, and ready again once a probe is due', async (t) => {
  const path = await writeSupergraph(t, [
    { name: 'catalog', url: await deadUrl(), typeDefs: catalogSdl },
    { name: 'inventory', url: await deadUrl(), typeDefs: inventorySdl },
  ]);
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: path, SUBGRAPH_BREAKER_HALF_OPEN_MS: '1500' });
  t.after(() => gateway.stop());
  const base = new URL(gateway.url).origin;
  assert.equal((await fetch(`${base}/ready`)).status, 200);
  for (let i = 0; i < 2; i++)
    assert.deepEqual((await graphql(gateway.url, '{ hello stock }')).body.data, { hello: null, stock: null });
  const openAt = Date.now();
  const ready = await fetch(`${base}/ready`);
  const health = await fetch(`${base}/ready/subgraphs`);
  assert.equal(ready.status, 503);
  assert.equal(health.status, 503);
  assert.deepEqual(await health.json(), {
    status: 'not ready',
    subgraphs: { catalog: { breaker: 'open', available: false }, inventory: { breaker: 'open', available: false } },
  });
  // Pulled from the load balancer, the gateway gets no traffic to probe with: it is ready again when a probe is due.
  await waitFor('/ready to turn 200', async () => (await fetch(`${base}/ready`)).status === 200, 3000);
  assert.ok(Date.now() - openAt >= 1000);
});

test('per-subgraph settings override the defaults, and a bad override names its variable', () => {
  const config = loadGatewayConfig({
    SUBGRAPH_TIMEOUT_MS: '5000',
    SUBGRAPH_TIMEOUT_MS_OVERRIDES: 'users=2000, orders=3000',
    SUBGRAPH_RETRIES_OVERRIDES: 'orders=0',
  });
  assert.equal(config.subgraphTimeoutMs, 5000);
  assert.deepEqual(config.subgraphTraffic.overrides, {
    users: { timeoutMs: 2000 },
    orders: { timeoutMs: 3000, retries: 0 },
  });
  assert.equal(config.subgraphTraffic.requestTimeoutMs, 7000, 'default deadline: the longest subgraph timeout + 2 s');
  assert.equal(config.subgraphTraffic.defaults.breakerFailures, 5);
  assert.throws(
    () => loadGatewayConfig({ SUBGRAPH_TIMEOUT_MS_OVERRIDES: 'users:2000' }),
    /SUBGRAPH_TIMEOUT_MS_OVERRIDES.*users:2000/,
  );
  assert.throws(
    () => loadGatewayConfig({ SUBGRAPH_MAX_CONCURRENCY_OVERRIDES: 'users=0' }),
    /SUBGRAPH_MAX_CONCURRENCY_OVERRIDES.*users.*0/,
  );
  assert.throws(
    () => loadGatewayConfig({ SUBGRAPH_RETRIES_OVERRIDES: 'users=1,users=2' }),
    /SUBGRAPH_RETRIES_OVERRIDES names "users" twice/,
  );
});

test('calls queued at the concurrency limit wait no longer than the request deadline, then fail with GATEWAY_TIMEOUT', async (t) => {
  const slow = await startSubgraph('inventory', inventorySdl, {
    Query: { stock: () => new Promise((resolve) => setTimeout(() => resolve(1), 1000)) },
  });
  t.after(() => slow.stop());
  const gateway = await setup(t, slow.url, { SUBGRAPH_MAX_CONCURRENCY: '1', GATEWAY_REQUEST_TIMEOUT_MS: '400' });
  await graphql(gateway.url, '{ hello }');
  const results = await Promise.all(
    [1, 2, 3].map(async () => {
      const at = Date.now();
      return { ...(await graphql(gateway.url, '{ hello stock }')), ms: Date.now() - at };
    }),
  );
  for (const { body, ms } of results) {
    assert.deepEqual(body.data, { hello: 'world', stock: null });
    assert.equal(body.errors?.[0]?.extensions?.code, 'GATEWAY_TIMEOUT');
    assert.equal(body.errors?.[0]?.extensions?.reason, 'deadline');
    assert.deepEqual(body.errors?.[0]?.path, ['stock']);
    assert.ok(ms < 400 + 400, `answered in ${ms} ms`);
  }
});

test('logs the circuit opening, probing and closing', async (t) => {
  const inventory = await startSubgraphProcess({ FAIL_STATUS: '503' });
  t.after(() => inventory.stop());
  const lines: { msg?: string; subgraph?: string }[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString())), done()) }),
  );
  const catalog = await startSubgraph('catalog', catalogSdl, { Query: { hello: () => 'world' } });
  t.after(() => catalog.stop());
  const path = await writeSupergraph(t, [
    { name: 'catalog', url: catalog.url, typeDefs: catalogSdl },
    { name: 'inventory', url: inventory.url, typeDefs: inventorySdl },
  ]);
  const gateway = await startGateway(loadGatewayConfig({ PORT: '0', NODE_ENV: 'test', SUPERGRAPH_PATH: path }), {
    logger,
  });
  t.after(() => gateway.stop());
  const messages = () =>
    lines.filter((l) => l.subgraph === 'inventory' && l.msg?.startsWith('subgraph circuit')).map((l) => l.msg);

  for (let i = 0; i < 2; i++) await graphql(gateway.url, '{ hello stock }');
  assert.deepEqual(messages(), ['subgraph circuit opened: calls fail fast']);
  await inventory.restart({ FAIL_STATUS: '' });
  await waitFor(
    'stock again',
    async () => (await graphql(gateway.url, '{ hello stock }')).body.data?.stock === 7,
    5000,
  );
  assert.deepEqual(messages().slice(-2), [
    'subgraph circuit half-open: probing',
    'subgraph circuit closed: calls resume',
  ]);
});
