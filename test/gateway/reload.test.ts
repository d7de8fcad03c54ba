import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { listen } from '@commerce/common';
import {
  compose,
  gate,
  graphql,
  metric,
  replaceFile,
  startSubgraph,
  startTestGateway,
  tempDir,
  waitFor,
} from './helpers';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const v1 = 'type Query { hello: String wait: String }';
const v2 = 'type Query { hello: String wait: String extra: String }';
const withoutWait = 'type Query { hello: String extra: String }';

/** One subgraph that already serves v2; the supergraph file decides what the gateway exposes. */
async function setup(t: { after(fn: () => Promise<void>): void }) {
  const release = gate();
  const entered = gate();
  const subgraph = await startSubgraph('catalog', v2, {
    Query: {
      hello: () => 'world',
      extra: () => 'new field',
      wait: async () => {
        entered.open();
        await release.promise;
        return 'done';
      },
    },
  });
  t.after(async () => {
    release.open();
    await subgraph.stop();
  });
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  const supergraph = (typeDefs: string) => compose([{ name: 'catalog', url: subgraph.url, typeDefs }]);
  await replaceFile(path, supergraph(v1));
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: path });
  t.after(() => gateway.stop());
  return { gateway, path, supergraph, release, entered };
}

test('serves a field added to the supergraph file without a restart, then keeps it when the next file is invalid', async (t) => {
  const { gateway, path, supergraph } = await setup(t);
  const before = await graphql(gateway.url, '{ extra }');
  assert.equal(before.status, 400);
  assert.equal(before.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');

  const next = supergraph(v2);
  await replaceFile(path, next);
  await waitFor(
    'the new field',
    async () => (await graphql(gateway.url, '{ extra }')).body.data?.extra === 'new field',
  );
  assert.equal(await metric(gateway.url, 'gateway_supergraph_reloads_total', { result: 'success' }), 1);
  assert.equal(await metric(gateway.url, 'gateway_supergraph_last_reload_success'), 1);
  assert.equal(await metric(gateway.url, 'gateway_supergraph_info', { hash: sha256(next) }), 1);

  await replaceFile(path, 'this is not { graphql');
  await waitFor(
    'a failed reload',
    async () => (await metric(gateway.url, 'gateway_supergraph_reloads_total', { result: 'failure' })) === 1,
  );
  assert.equal(await metric(gateway.url, 'gateway_supergraph_last_reload_success'), 0);
  assert.deepEqual((await graphql(gateway.url, '{ hello extra }')).body, {
    data: { hello: 'world', extra: 'new field' },
  });

  await replaceFile(path, 'type Query { notASupergraph: Int }');
  await waitFor(
    'a second failed reload',
    async () => (await metric(gateway.url, 'gateway_supergraph_reloads_total', { result: 'failure' })) === 2,
  );
  assert.deepEqual((await graphql(gateway.url, '{ hello extra }')).body, {
    data: { hello: 'world', extra: 'new field' },
  });
  assert.equal(await metric(gateway.url, 'gateway_supergraph_info', { hash: sha256(next) }), 1);
  assert.equal((await fetch(new URL('/ready', gateway.url))).status, 200);

  await writeFile(path, supergraph(v1));
  await waitFor('the field to be removed again', async () => (await graphql(gateway.url, '{ extra }')).status === 400);
  assert.equal(await metric(gateway.url, 'gateway_supergraph_last_reload_success'), 1);
});

test('lets a request in flight during a reload finish on the old supergraph, even if the new one drops its field', async (t) => {
  const { gateway, path, supergraph, release, entered } = await setup(t);
  const inFlight = graphql(gateway.url, '{ wait }');
  await entered.promise;

  await replaceFile(path, supergraph(withoutWait));
  await waitFor(
    'the new field',
    async () => (await graphql(gateway.url, '{ extra }')).body.data?.extra === 'new field',
  );
  assert.equal((await graphql(gateway.url, '{ wait }')).status, 400);

  release.open();
  const { status, body } = await inFlight;
  assert.equal(status, 200);
  assert.deepEqual(body, { data: { wait: 'done' } });
});

test('polls a supergraph URL and swaps when its content changes', async (t) => {
  const subgraph = await startSubgraph('catalog', v2, { Query: { hello: () => 'world', extra: () => 'new field' } });
  t.after(() => subgraph.stop());
  let served = compose([{ name: 'catalog', url: subgraph.url, typeDefs: v1 }]);
  const registry = await listen(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(served);
    },
    { path: '/supergraph.graphql' },
  );
  t.after(() => registry.close());
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: registry.url, SUPERGRAPH_POLL_INTERVAL_MS: '100' });
  t.after(() => gateway.stop());
  assert.equal((await graphql(gateway.url, '{ extra }')).status, 400);

  served = compose([{ name: 'catalog', url: subgraph.url, typeDefs: v2 }]);
  await waitFor(
    'the new field',
    async () => (await graphql(gateway.url, '{ extra }')).body.data?.extra === 'new field',
  );
  assert.equal(await metric(gateway.url, 'gateway_supergraph_reloads_total', { result: 'success' }), 1);
});
