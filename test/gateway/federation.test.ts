import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningGateway } from '@commerce/gateway';
import {
  compose,
  graphql,
  metric,
  replaceFile,
  startSubgraph,
  startTestGateway,
  tempDir,
  type TestSubgraph,
} from './helpers';

const usersSdl = `
  type User @key(fields: "id") { id: ID! name: String! }
  type Query { me: User }
`;
const reviewsSdl = `
  type User @key(fields: "id") { id: ID! reviews: [Review!]! }
  type Review { body: String! }
`;

let users: TestSubgraph;
let reviews: TestSubgraph;
let gateway: RunningGateway;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  users = await startSubgraph('users', usersSdl, {
    Query: {
      me: (_: unknown, __: unknown, { headers }) =>
        headers['x-user-id'] ? { id: headers['x-user-id'], name: 'Ada' } : null,
    },
  });
  cleanup.push(() => users.stop());
  reviews = await startSubgraph('reviews', reviewsSdl, {
    User: {
      __resolveReference: (user: { id: string }) => ({ id: user.id, reviews: [{ body: `great, says ${user.id}` }] }),
    },
  });
  cleanup.push(() => reviews.stop());
  const dir = await tempDir();
  cleanup.push(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  // Routing URLs that cannot resolve: the gateway must use the SUBGRAPH_URLS overrides.
  await replaceFile(
    path,
    compose([
      { name: 'users', url: 'http://users.invalid/graphql', typeDefs: usersSdl },
      { name: 'reviews', url: 'http://reviews.invalid/graphql', typeDefs: reviewsSdl },
    ]),
  );
  gateway = await startTestGateway({
    SUPERGRAPH_PATH: path,
    SUBGRAPH_URLS: `users=${users.url},reviews=${reviews.url}`,
  });
  cleanup.unshift(() => gateway.stop());
});

after(async () => {
  for (const step of cleanup) await step();
});

test('resolves a query across two subgraphs with one fetch per subgraph', async () => {
  const baseline = {
    users: await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'users', result: 'ok' }),
    reviews: await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'reviews', result: 'ok' }),
    all: await metric(gateway.url, 'gateway_subgraph_requests_total'),
  };
  const { status, body } = await graphql(gateway.url, '{ me { id name reviews { body } } }', { 'x-user-id': 'u1' });
  assert.equal(status, 200);
  assert.deepEqual(body, { data: { me: { id: 'u1', name: 'Ada', reviews: [{ body: 'great, says u1' }] } } });
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'users', result: 'ok' }),
    baseline.users + 1,
  );
  assert.equal(
    await metric(gateway.url, 'gateway_subgraph_requests_total', { subgraph: 'reviews', result: 'ok' }),
    baseline.reviews + 1,
  );
  assert.equal(await metric(gateway.url, 'gateway_subgraph_requests_total'), baseline.all + 2);
  assert.ok((await metric(gateway.url, 'gateway_operations_total', { type: 'query', result: 'ok' })) >= 1);
});

test('forwards x-user-id, x-session-id and x-request-id to every subgraph it calls', async () => {
  const seenByUsers = users.received.length;
  const seenByReviews = reviews.received.length;
  const { body, headers } = await graphql(gateway.url, '{ me { reviews { body } } }', {
    'x-user-id': 'user-42',
    'x-session-id': 'sess-1',
    'x-request-id': 'req-abc',
  });
  assert.deepEqual(body.data, { me: { reviews: [{ body: 'great, says user-42' }] } });
  assert.equal(headers.get('x-request-id'), 'req-abc');
  const calls = [...users.received.slice(seenByUsers), ...reviews.received.slice(seenByReviews)];
  assert.equal(calls.length, 2);
  for (const call of calls) {
    assert.equal(call['x-user-id'], 'user-42');
    assert.equal(call['x-session-id'], 'sess-1');
    assert.equal(call['x-request-id'], 'req-abc');
    assert.equal(call['apollo-federation-include-trace'], undefined);
  }
});

test('generates a request id when the client sends none, and forwards no identity for anonymous calls', async () => {
  const seen = users.received.length;
  const { body, headers } = await graphql(gateway.url, '{ me { id } }');
  assert.deepEqual(body, { data: { me: null } });
  const requestId = headers.get('x-request-id');
  assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
  const [call] = users.received.slice(seen);
  assert.equal(call?.['x-request-id'], requestId);
  assert.equal(call?.['x-user-id'], undefined);
});

test('refuses an x-user-id longer than 256 characters with BAD_REQUEST', async () => {
  const { status, body } = await graphql(gateway.url, '{ me { id } }', { 'x-user-id': 'x'.repeat(257) });
  assert.equal(status, 400);
  assert.equal(body.errors?.[0]?.extensions?.code, 'BAD_REQUEST');
});
