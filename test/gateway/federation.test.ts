import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { createInternalVerifier, INTERNAL_IDENTITY_HEADER } from '@commerce/common';
import type { RunningGateway } from '@commerce/gateway';
import { asUser, TEST_AUTH_KEYS } from '../helpers/tokens';
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

/** What these subgraphs verify, as the kit does: the internal token the gateway signed for them. */
const verifierOf = (subgraph: string) =>
  createInternalVerifier(createPublicKey(TEST_AUTH_KEYS.internalPublicKey), subgraph);
const verifyForUsers = verifierOf('users');

let users: TestSubgraph;
let reviews: TestSubgraph;
let gateway: RunningGateway;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  users = await startSubgraph('users', usersSdl, {
    Query: {
      me: async (_: unknown, __: unknown, { headers }) => {
        const { sub } = await verifyForUsers(String(headers[INTERNAL_IDENTITY_HEADER]));
        return sub ? { id: sub, name: 'Ada' } : null;
      },
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
  const { status, body } = await graphql(gateway.url, '{ me { id name reviews { body } } }', await asUser('usr_ada'));
  assert.equal(status, 200);
  assert.deepEqual(body, { data: { me: { id: 'usr_ada', name: 'Ada', reviews: [{ body: 'great, says usr_ada' }] } } });
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

test('sends every subgraph it calls the verified caller as a token signed for that subgraph, and the request id', async () => {
  const seenByUsers = users.received.length;
  const seenByReviews = reviews.received.length;
  const { body, headers } = await graphql(gateway.url, '{ me { reviews { body } } }', {
    ...(await asUser('usr_42', ['admin'])),
    'x-session-id': 'sess-1',
    'x-request-id': 'req-abc',
  });
  assert.deepEqual(body.data, { me: { reviews: [{ body: 'great, says usr_42' }] } });
  assert.equal(headers.get('x-request-id'), 'req-abc');
  const calls = [
    ...users.received.slice(seenByUsers).map((call) => ['users', call] as const),
    ...reviews.received.slice(seenByReviews).map((call) => ['reviews', call] as const),
  ];
  assert.equal(calls.length, 2);
  for (const [subgraph, call] of calls) {
    const claims = await verifierOf(subgraph)(String(call[INTERNAL_IDENTITY_HEADER]));
    assert.deepEqual(claims, { sub: 'usr_42', scopes: ['admin'], sessionId: 'sess-1' });
    await assert.rejects(
      verifierOf(subgraph === 'users' ? 'reviews' : 'users')(String(call[INTERNAL_IDENTITY_HEADER])),
    );
    assert.equal(call['x-request-id'], 'req-abc');
    assert.equal(call.authorization, undefined, "the client's token stays at the gateway");
    assert.equal(call['x-user-id'], undefined);
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
  assert.deepEqual(await verifyForUsers(String(call?.[INTERNAL_IDENTITY_HEADER])), {
    sub: undefined,
    scopes: [],
    sessionId: undefined,
  });
});

test('refuses x-user-id (no identity any more) with 401 saying how to get a token, and calls no subgraph', async () => {
  const seen = users.received.length;
  const { status, body, headers } = await graphql(gateway.url, '{ me { id } }', { 'x-user-id': 'usr_1' });
  assert.equal(status, 401);
  assert.equal(body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.match(body.errors?.[0]?.message ?? '', /Authorization: Bearer <JWT>.*npm run token/);
  assert.match(headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.equal(users.received.length, seen);
});
