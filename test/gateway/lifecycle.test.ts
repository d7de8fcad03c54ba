import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { listen } from '@commerce/common';
import { createGateway, loadGatewayConfig } from '@commerce/gateway';
import { gql, request } from '../faults/process-probes';
import { compose, gate, graphql, silentLogger, startSubgraph, startTestGateway, tempDir, waitFor } from './helpers';

const sdl = 'type Query { hello: String }';

test('reports not ready until the first supergraph is loaded, then serves', async (t) => {
  const subgraph = await startSubgraph('catalog', sdl, { Query: { hello: () => 'world' } });
  t.after(() => subgraph.stop());
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await writeFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: sdl }]));

  const gateway = createGateway(loadGatewayConfig({ SUPERGRAPH_PATH: path }), { logger: silentLogger });
  t.after(() => gateway.stop());
  const server = await listen(gateway.handler, { path: '/graphql' });
  t.after(() => server.close());

  assert.equal((await fetch(new URL('/ready', server.url))).status, 503);
  assert.equal((await fetch(new URL('/health', server.url))).status, 200);
  await gateway.start();
  assert.equal(gateway.ready(), true);
  assert.equal((await fetch(new URL('/ready', server.url))).status, 200);
  assert.deepEqual((await graphql(server.url, '{ hello }')).body, { data: { hello: 'world' } });

  await Promise.all([gateway.stop(), gateway.stop()]);
  await gateway.stop();
  assert.equal(gateway.ready(), false);
  assert.equal((await fetch(new URL('/ready', server.url))).status, 503);
  await assert.rejects(gateway.start(), /stopped/);
});

test('stops idempotently and frees its port', async (t) => {
  const subgraph = await startSubgraph('catalog', sdl, { Query: { hello: () => 'world' } });
  t.after(() => subgraph.stop());
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await writeFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: sdl }]));
  const running = await startTestGateway({ SUPERGRAPH_PATH: path });
  t.after(() => running.stop());
  assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  assert.ok(running.port > 0);
  assert.deepEqual((await graphql(running.url, '{ hello }')).body, { data: { hello: 'world' } });
  await Promise.all([running.stop(), running.stop()]);
  await assert.rejects(fetch(running.url));
});

test('refuses to start, naming the path and the reason, when the supergraph is missing or invalid', async (t) => {
  const dir = await tempDir();
  t.after(() => dir.remove());
  const missing = join(dir.path, 'missing.graphql');
  await assert.rejects(startTestGateway({ SUPERGRAPH_PATH: missing }), (error: Error) => {
    assert.ok(error.message.includes(missing), error.message);
    assert.match(error.message, /ENOENT/);
    return true;
  });
  const invalid = join(dir.path, 'invalid.graphql');
  await writeFile(invalid, 'type Query { hello: String }');
  await assert.rejects(startTestGateway({ SUPERGRAPH_PATH: invalid }), (error: Error) => {
    assert.ok(error.message.includes(invalid), error.message);
    return true;
  });
});

test('refuses to start when a subgraph has no routing URL and no SUBGRAPH_URLS override', async (t) => {
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await writeFile(path, compose([{ name: 'catalog', url: '', typeDefs: sdl }]));
  await assert.rejects(startTestGateway({ SUPERGRAPH_PATH: path }), /"catalog" has no routing URL.*SUBGRAPH_URLS/);
});

test('close() drains: /ready turns 503 and responses close their connections at once, requests in flight finish, then new connections are refused', async (t) => {
  const held = gate();
  let arrived = 0;
  const slowSdl = 'type Query { slow: String }';
  const subgraph = await startSubgraph('catalog', slowSdl, {
    Query: {
      slow: async () => {
        arrived++;
        await held.promise;
        return 'done';
      },
    },
  });
  t.after(() => subgraph.stop());
  t.after(() => held.open());
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await writeFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: slowSdl }]));
  const gateway = createGateway(loadGatewayConfig({ SUPERGRAPH_PATH: path }), { logger: silentLogger });
  t.after(() => gateway.stop());
  await gateway.start();
  const server = await listen(gateway.handler, { path: '/graphql', delayMs: 300, drainMs: 5000 });
  t.after(() => server.close());

  const inFlight = request(server.url, { body: gql('{ slow }') });
  await waitFor('the request to reach the subgraph', () => arrived === 1);
  const closed = server.close();
  assert.equal(server.draining, true);
  const ready = await request(new URL('/ready', server.url).href);
  assert.ok(ready.kind === 'answered', JSON.stringify(ready));
  assert.equal(ready.status, 503);
  assert.deepEqual(JSON.parse(ready.body), { status: 'not ready', draining: true });
  assert.equal(ready.connection, 'close');
  await waitFor(
    'the listener to close',
    async () => (await request(new URL('/health', server.url).href)).kind === 'refused',
  );
  held.open();
  const answer = await inFlight;
  assert.ok(answer.kind === 'answered' && answer.status === 200, JSON.stringify(answer));
  assert.deepEqual(JSON.parse(answer.body), { data: { slow: 'done' } });
  await closed;
});

test('close() cuts requests still in flight after drainMs and resolves', async (t) => {
  const never = gate();
  t.after(() => never.open());
  const server = await listen((_req, _res) => void never.promise, { drainMs: 300 });
  t.after(() => server.close());
  const stuck = request(server.url);
  await waitFor(
    'the request to arrive',
    () => new Promise<boolean>((resolve) => server.server.getConnections((_error, count) => resolve(count > 0))),
  );
  const started = Date.now();
  await server.close();
  const waited = Date.now() - started;
  assert.ok(waited >= 250 && waited < 2000, `close() took ${waited} ms`);
  // Cut without a response: on a fresh connection that is a reset the client cannot tell from one before the read.
  assert.ok(['reset', 'dropped'].includes((await stuck).kind));
});
