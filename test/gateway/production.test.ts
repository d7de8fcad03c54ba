import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { compose, graphql, replaceFile, startSubgraph, startTestGateway, tempDir } from './helpers';

const sdl = 'type Query { hello: String broken: String }';

async function setup(t: { after(fn: () => Promise<void>): void }, env: Record<string, string>) {
  const subgraph = await startSubgraph('catalog', sdl, {
    Query: {
      hello: () => 'world',
      broken: () => {
        throw new Error('duplicate key value violates unique constraint "users_email_key"');
      },
    },
  });
  t.after(() => subgraph.stop());
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await replaceFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: sdl }]));
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: path, ...env });
  t.after(() => gateway.stop());
  return gateway;
}

test('in production, masks raw subgraph errors and shows no stack traces or field suggestions', async (t) => {
  const gateway = await setup(t, { NODE_ENV: 'production' });
  const { status, body } = await graphql(gateway.url, '{ hello broken }');
  assert.equal(status, 200);
  assert.deepEqual(body, {
    data: { hello: 'world', broken: null },
    errors: [
      {
        message: 'Internal server error',
        path: ['broken'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'catalog' },
      },
    ],
  });
  const invalid = await graphql(gateway.url, '{ helo }');
  assert.equal(invalid.status, 400);
  assert.doesNotMatch(JSON.stringify(invalid.body), /Did you mean|stacktrace/);
});

test('in production, refuses introspection unless GATEWAY_INTROSPECTION=true', async (t) => {
  const closed = await setup(t, { NODE_ENV: 'production' });
  const refused = await graphql(closed.url, '{ __schema { queryType { name } } }');
  assert.equal(refused.status, 400);
  assert.equal(refused.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  const open = await setup(t, { NODE_ENV: 'production', GATEWAY_INTROSPECTION: 'true' });
  assert.deepEqual((await graphql(open.url, '{ __schema { queryType { name } } }')).body, {
    data: { __schema: { queryType: { name: 'Query' } } },
  });
});

test('outside production, shows the subgraph message and a stack trace', async (t) => {
  const gateway = await setup(t, { NODE_ENV: 'development' });
  const { body } = await graphql(gateway.url, '{ broken }');
  assert.match(body.errors?.[0]?.message ?? '', /unique constraint/);
  assert.ok(Array.isArray(body.errors?.[0]?.extensions?.stacktrace));
});
