import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { listen } from '@commerce/common';
import { compose, gate, graphql, metric, replaceFile, startSubgraph, startTestGateway, tempDir } from './helpers';

const catalogSdl = 'type Query { hello: String }';
const inventorySdl = 'type Query { stock: Int }';

/** A URL on which nothing listens: a port that was free a moment ago. */
async function deadUrl(): Promise<string> {
  const listening = await listen(() => undefined, { path: '/graphql' });
  await listening.close();
  return listening.url;
}

async function setup(t: { after(fn: () => Promise<void>): void }, inventoryUrl: string, env: Record<string, string> = {}) {
  const catalog = await startSubgraph('catalog', catalogSdl, { Query: { hello: () => 'world' } });
  t.after(() => catalog.stop());
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await replaceFile(
    path,
    compose([
      { name: 'catalog', url: catalog.url, typeDefs: catalogSdl },
      { name: 'inventory', url: inventoryUrl, typeDefs: inventorySdl },
    ]),
  );
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
  assert.equal(await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory', result: 'unavailable' }), 5);
  assert.equal(await metric(gateway.url, 'gateway_subgraph_retries_total', { subgraph: 'inventory' }), 4);
  assert.equal(await metric(gateway.url, 'gateway_subgraph_rejected_total', { subgraph: 'inventory', reason: 'circuit_open' }), 1);
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
  assert.equal(await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory', result: 'timeout' }), 1);
  assert.deepEqual((await graphql(gateway.url, '{ hello }')).body, { data: { hello: 'world' } });
});

test('answers SUBGRAPH_UNAVAILABLE when a subgraph answers with a non-GraphQL HTTP error', async (t) => {
  const broken = await listen((_req, res) => {
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end('<h1>upstream exploded: password=hunter2</h1>');
  }, { path: '/graphql' });
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
  assert.equal(await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'inventory', result: 'http_error' }), 3);
});
