import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningGateway } from '@commerce/gateway';
import { compose, graphql, replaceFile, startSubgraph, startTestGateway, tempDir } from './helpers';

const sdl = 'type Query { hello: String }';
let gateway: RunningGateway;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  const subgraph = await startSubgraph('catalog', sdl, { Query: { hello: () => 'world' } });
  cleanup.push(() => subgraph.stop());
  const dir = await tempDir();
  cleanup.push(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await replaceFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: sdl }]));
  gateway = await startTestGateway({ SUPERGRAPH_PATH: path, BODY_LIMIT_BYTES: '1024' });
  cleanup.unshift(() => gateway.stop());
});

after(async () => {
  for (const step of cleanup) await step();
});

async function post(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);
  return {
    status: response.status,
    body: (await response.json()) as { errors?: { extensions?: { code?: string } }[] },
  };
}

async function assertStillServing(): Promise<void> {
  assert.deepEqual((await graphql(gateway.url, '{ hello }')).body, { data: { hello: 'world' } });
}

test('answers a malformed JSON body with 400 and a GraphQL error body', async () => {
  const { status, body } = await post('{"query": "{ hello }"');
  assert.equal(status, 400);
  assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_REQUEST');
  await assertStillServing();
});

test('answers a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
  const { status, body } = await post(JSON.stringify({ query: `{ hello } # ${'x'.repeat(2048)}` }));
  assert.equal(status, 413);
  assert.equal(body.errors?.[0]?.extensions?.code, 'PAYLOAD_TOO_LARGE');
  await assertStillServing();
});

test('answers an unknown field with 400 GRAPHQL_VALIDATION_FAILED', async () => {
  const { status, body } = await graphql(gateway.url, '{ hello nope }');
  assert.equal(status, 400);
  assert.equal(body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  await assertStillServing();
});

test('answers unparsable GraphQL with 400 GRAPHQL_PARSE_FAILED', async () => {
  const { status, body } = await graphql(gateway.url, '{ hello');
  assert.equal(status, 400);
  assert.equal(body.errors?.[0]?.extensions?.code, 'GRAPHQL_PARSE_FAILED');
  await assertStillServing();
});

test('refuses a GET query without a CSRF preflight header', async () => {
  const response = await fetch(`${gateway.url}?query=${encodeURIComponent('{ hello }')}`);
  assert.equal(response.status, 400);
  const allowed = await fetch(`${gateway.url}?query=${encodeURIComponent('{ hello }')}`, {
    headers: { 'apollo-require-preflight': 'true' },
  });
  assert.deepEqual(await allowed.json(), { data: { hello: 'world' } });
});

test('serves /health, /ready and /metrics', async () => {
  assert.equal((await fetch(new URL('/health', gateway.url))).status, 200);
  assert.equal((await fetch(new URL('/ready', gateway.url))).status, 200);
  const metrics = await (await fetch(new URL('/metrics', gateway.url))).text();
  for (const name of [
    'http_requests_total',
    'gateway_subgraph_requests_total',
    'gateway_supergraph_last_reload_success',
    'gateway_operations_total',
  ]) {
    assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'));
  }
});

test('answers a chunked body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
  const chunk = new TextEncoder().encode('x'.repeat(512));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 8) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const { status, body } = await post(stream);
  assert.equal(status, 413);
  assert.equal(body.errors?.[0]?.extensions?.code, 'PAYLOAD_TOO_LARGE');
  await assertStillServing();
});
