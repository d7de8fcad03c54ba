import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '@commerce/gateway';
import {
  compose,
  graphql,
  startSubgraph,
  startTestGateway,
  tempDir,
  waitFor,
  type TestSubgraph,
} from '../gateway/helpers';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SDL = `
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
enum CacheControlScope { PUBLIC PRIVATE }
type Query {
  short: Int @cacheControl(maxAge: 1)
  long: Int @cacheControl(maxAge: 60)
  never: Int
}
`;

describe('response cache TTL follows the subgraphs’ cache hints (in-process store)', () => {
  let subgraph: TestSubgraph;
  let gateway: RunningGateway;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let calls = 0;

  before(async () => {
    subgraph = await startSubgraph('clock', SDL, {
      Query: { short: () => ++calls, long: () => ++calls, never: () => ++calls },
    });
    dir = await tempDir();
    const path = join(dir.path, 'supergraph.graphql');
    await writeFile(path, compose([{ name: 'clock', url: subgraph.url, typeDefs: SDL }]));
    gateway = await startTestGateway({ SUPERGRAPH_PATH: path });
  });
  after(async () => {
    await gateway?.stop();
    await subgraph?.stop();
    await dir?.remove();
  });

  it('keeps an entry for its maxAge and then fetches again', async () => {
    const first = await graphql(gateway.url, '{ short }');
    assert.equal(first.headers.get('x-cache'), 'MISS');
    assert.equal(first.headers.get('cache-control'), 'max-age=1, public');
    const hit = await graphql(gateway.url, '{ short }');
    assert.equal(hit.headers.get('x-cache'), 'HIT');
    assert.deepEqual(hit.body.data, first.body.data);
    const refreshed = await waitFor(
      'the 1 s entry to expire',
      async () => {
        const res = await graphql(gateway.url, '{ short }');
        return res.headers.get('x-cache') === 'MISS' && res;
      },
      5000,
    );
    assert.notDeepEqual(refreshed.body.data, first.body.data, 'the subgraph was called again');
  });

  it('uses the smallest maxAge of the fields a response contains, and keeps longer-lived entries', async () => {
    const long = await graphql(gateway.url, '{ long }');
    const both = await graphql(gateway.url, '{ long short }');
    assert.equal(both.headers.get('cache-control'), 'max-age=1, public');
    await waitFor(
      'the mixed entry to expire',
      async () => (await graphql(gateway.url, '{ long short }')).headers.get('x-cache') === 'MISS',
      5000,
    );
    const stillCached = await graphql(gateway.url, '{ long }');
    assert.equal(stillCached.headers.get('x-cache'), 'HIT');
    assert.deepEqual(stillCached.body.data, long.body.data);
  });

  it('does not cache a field without a hint (maxAge 0)', async () => {
    await graphql(gateway.url, '{ never }');
    const again = await graphql(gateway.url, '{ never }');
    assert.equal(again.headers.get('x-cache'), 'MISS');
    assert.equal(again.headers.get('cache-control'), 'no-store');
  });
});
