import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { asUser } from '../helpers/tokens';
import { compose, gate, graphql, startSubgraph, startTestGateway, tempDir, waitFor } from './helpers';

const SDL = 'type Query { slow: Int } type Mutation { bump: Int }';

async function setup(t: { after(fn: () => Promise<void>): void }, env: Record<string, string>) {
  const release = gate();
  let bumps = 0;
  const subgraph = await startSubgraph('slow', SDL, {
    Query: { slow: async () => (await release.promise, 42) },
    Mutation: { bump: async () => (await release.promise, ++bumps) },
  });
  t.after(async () => {
    release.open();
    await subgraph.stop();
  });
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await writeFile(path, compose([{ name: 'slow', url: subgraph.url, typeDefs: SDL }]));
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: path, RESPONSE_CACHE: 'false', ...env });
  t.after(() => gateway.stop());
  return { gateway, subgraph, release };
}

test('with SUBGRAPH_DEDUPLICATION, identical queries in flight share one subgraph call; mutations and other principals never do', async (t) => {
  const { gateway, subgraph, release } = await setup(t, { SUBGRAPH_DEDUPLICATION: 'true' });
  const [u1, u2] = [await asUser('usr_u1'), await asUser('usr_u2')];
  const queries = Array.from({ length: 5 }, () => graphql(gateway.url, '{ slow }', u1));
  const other = graphql(gateway.url, '{ slow }', u2);
  const mutations = [graphql(gateway.url, 'mutation { bump }'), graphql(gateway.url, 'mutation { bump }')];
  await waitFor('the distinct calls to reach the subgraph', () => subgraph.received.length >= 4, 5000);
  release.open();
  for (const response of await Promise.all([...queries, other]))
    assert.deepEqual(response.body, { data: { slow: 42 } });
  const bumped = (await Promise.all(mutations)).map((r) => r.body.data?.bump);
  assert.deepEqual([...bumped].sort(), [1, 2], 'each mutation ran');
  assert.equal(subgraph.received.length, 4, 'one call for the five u1 queries, one for u2, one per mutation');
});

test('without it (the default), every client request pays for its own subgraph call', async (t) => {
  const { gateway, subgraph, release } = await setup(t, {});
  const queries = Array.from({ length: 3 }, () => graphql(gateway.url, '{ slow }'));
  await waitFor('all three calls', () => subgraph.received.length === 3, 5000);
  release.open();
  await Promise.all(queries);
  assert.equal(subgraph.received.length, 3);
});
