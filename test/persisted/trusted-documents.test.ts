import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { composeFromConfig } from '../../scripts/lib/composition';
import { scrape, sum } from '../helpers/metrics';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { TEST_AUTH_ENV } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';
import { postJson } from '../helpers/graphql';

const root = fileURLToPath(new URL('../..', import.meta.url));
interface Manifest {
  operations: { id: string; name: string; type: string; body: string }[];
}

const post = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  postJson(url, body, headers);

describe('trusted documents', () => {
  let platform: TestPlatform;
  let dir: string;
  let manifest: Manifest;
  const gateways: RunningGateway[] = [];
  const logs: Array<Record<string, unknown>> = [];

  async function gateway(env: Record<string, string>): Promise<RunningGateway> {
    const subgraphUrls = Object.entries(platform.subgraphs)
      .map(([name, s]) => `${name}=${s.url}`)
      .join(',');
    const sink = new Writable({
      write: (chunk: Buffer, _e, done) => (
        logs.push(
          ...chunk
            .toString()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        ),
        done()
      ),
    });
    const running = await startGateway(
      loadGatewayConfig({
        ...TEST_AUTH_ENV,
        PORT: '0',
        SUBGRAPH_URLS: subgraphUrls,
        SUPERGRAPH_PATH: join(root, 'schema/supergraph.graphql'),
        ...env,
      }),
      { logger: pino({ level: 'info' }, sink) },
    );
    gateways.push(running);
    return running;
  }
  const metric = async (gw: RunningGateway, name: string, labels: Record<string, string> = {}) =>
    sum(await scrape(gw.url), name, labels);
  const op = (name: string) => manifest.operations.find((o) => o.name === name)!;

  before(async () => {
    platform = await startTestPlatform();
    dir = await mkdtemp(join(tmpdir(), 'trusted-'));
    await copyFile(join(root, 'schema/persisted-queries.json'), join(dir, 'manifest.json'));
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await platform?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('in enforce mode runs manifest operations by Apollo hash, by documentId or by their exact body, and refuses the rest', async () => {
    const gw = await gateway({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_PATH: join(dir, 'manifest.json') });
    const list = op('ProductList');
    const byHash = await post(gw.url, {
      variables: { first: 2 },
      extensions: { persistedQuery: { version: 1, sha256Hash: list.id } },
    });
    assert.equal(byHash.status, 200, JSON.stringify(byHash.body));
    assert.equal(byHash.body.data.products.edges.length, 2);
    const byDocumentId = await post(gw.url, { documentId: `sha256:${list.id}`, variables: { first: 1 } });
    assert.equal(byDocumentId.body.data.products.edges.length, 1);
    const byBody = await post(gw.url, { query: list.body, variables: { first: 3 } });
    assert.equal(byBody.body.data.products.edges.length, 3);
    const overGet = await fetch(`${gw.url}?documentId=${list.id}&variables=${encodeURIComponent('{"first":2}')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(
      ((await overGet.json()) as { data: { products: { edges: unknown[] } } }).data.products.edges.length,
      2,
    );

    const unknownQuery = await post(gw.url, { query: '{ users(first: 100) { edges { node { email } } } }' });
    assert.equal(unknownQuery.status, 400);
    assert.equal(unknownQuery.body.errors![0]!.extensions!.code, 'PERSISTED_QUERY_NOT_IN_LIST');
    const unknownHash = await post(gw.url, {
      query: '{ users(first: 1) { edges { cursor } } }',
      extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } },
    });
    assert.equal(unknownHash.status, 400);
    assert.equal(unknownHash.body.errors![0]!.extensions!.code, 'PERSISTED_QUERY_NOT_IN_LIST');
    assert.equal(await metric(gw, 'gateway_trusted_documents_total', { result: 'rejected' }), 2);
  });

  it('plans every manifest operation before reporting ready, so the first real request finds its plan cached', async () => {
    const gw = await gateway({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_PATH: join(dir, 'manifest.json') });
    const planned = manifest.operations.filter((o) => o.type !== 'subscription').length;
    assert.equal(
      await metric(gw, 'gateway_query_plan_cache_total', { result: 'miss' }),
      planned,
      'each manifest operation was planned once, during warm-up',
    );
    assert.ok((await metric(gw, 'gateway_plan_warmup_seconds')) > 0);
    const first = await post(gw.url, { documentId: op('ProductDetail').id, variables: { id: 'prd_1' } });
    assert.equal(first.status, 200);
    assert.equal(
      await metric(gw, 'gateway_query_plan_cache_total', { result: 'miss' }),
      planned,
      'the first request did not plan',
    );
    assert.equal(await metric(gw, 'gateway_query_plan_cache_total', { result: 'hit' }), 1);
    assert.ok(
      logs.some((l) => l.msg === 'planned every trusted document' && l.operations === manifest.operations.length),
    );
  });

  it('reloads a changed manifest without a restart', async () => {
    const path = join(dir, 'reloading.json');
    await copyFile(join(dir, 'manifest.json'), path);
    const gw = await gateway({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_PATH: path });
    const body = 'query Categories { products(first: 5) { edges { node { category } } } }';
    assert.equal((await post(gw.url, { query: body })).status, 400);
    const added = {
      ...manifest,
      operations: [...manifest.operations, { id: 'categories-v1', name: 'Categories', type: 'query', body }],
    };
    await writeFile(path, JSON.stringify(added));
    await waitFor(
      'the new manifest entry to be accepted',
      async () => (await post(gw.url, { documentId: 'categories-v1' })).status === 200,
      10_000,
    );
    assert.equal((await post(gw.url, { query: body })).body.data.products.edges.length, 5);
  });

  it('in allow mode runs unknown operations but logs and counts them', async () => {
    const gw = await gateway({ TRUSTED_DOCUMENTS: 'allow', TRUSTED_DOCUMENTS_PATH: join(dir, 'manifest.json') });
    const res = await post(gw.url, { query: 'query Adhoc { users(first: 1) { edges { cursor } } }' });
    assert.equal(res.status, 200);
    assert.equal(await metric(gw, 'gateway_trusted_documents_total', { result: 'unknown' }), 1);
    assert.ok(logs.some((l) => l.operationName === 'Adhoc' && /not in the trusted documents/.test(String(l.msg))));
    await post(gw.url, { documentId: op('ProductList').id });
    assert.equal(await metric(gw, 'gateway_trusted_documents_total', { result: 'known' }), 1);
  });

  it('reports a manifest operation that no longer validates after a supergraph change', async () => {
    const schemaDir = join(dir, 'schema');
    await rm(schemaDir, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(schemaDir);
    for (const file of ['users.graphql', 'orders.graphql', 'products.graphql', 'supergraph.yaml', 'supergraph.graphql'])
      await copyFile(join(root, 'schema', file), join(schemaDir, file));
    const gw = await gateway({
      TRUSTED_DOCUMENTS: 'enforce',
      TRUSTED_DOCUMENTS_PATH: join(dir, 'manifest.json'),
      SUPERGRAPH_PATH: join(schemaDir, 'supergraph.graphql'),
    });
    assert.equal(await metric(gw, 'gateway_trusted_documents_invalid'), 0);
    const products = await readFile(join(schemaDir, 'products.graphql'), 'utf8');
    await writeFile(join(schemaDir, 'products.graphql'), products.replace(/\n\s*description: String!\n/, '\n'));
    const composed = composeFromConfig(join(schemaDir, 'supergraph.yaml'));
    assert.ok(composed.ok);
    await writeFile(join(schemaDir, 'supergraph.graphql'), composed.supergraphSdl);
    await waitFor(
      'the broken manifest operation to be reported',
      async () => (await metric(gw, 'gateway_trusted_documents_invalid')) === 1,
      10_000,
    );
    assert.ok(logs.some((l) => l.name === 'ProductDetail' && /no longer validates/.test(String(l.msg))));
  });
});
