import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import YAML from 'yaml';
import type * as KitModule from '@commerce/kit';
import { migrateDatabase, type SubgraphDefinition } from '@commerce/kit';
import { composeFromConfig } from '../../scripts/lib/composition';
import { metric, replaceFile } from '../gateway/helpers';
import { startTestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { cleanupStack } from './cleanup';
import { startLoad, type LoadReport } from './load';
import { REPO, copyWorkspace, type WorkspaceCopy } from './workspace';
import { TEST_AUTH_KEYS } from '../helpers/tokens';

/** Runs a repository script in the copy the way npm does (tsx), without npm's wrapper. */
const script = (workspace: WorkspaceCopy, file: string, ...args: string[]) =>
  workspace.run(process.execPath, ['--import', 'tsx', file, ...args]);

/** Scaffolds `reviews` (extending Product) in a fresh copy of the repository. */
async function scaffoldReviews(defer: (fn: () => Promise<unknown>) => void): Promise<WorkspaceCopy> {
  const workspace = await copyWorkspace();
  defer(() => workspace.remove());
  const scaffold = await script(workspace, 'scripts/subgraph-new.ts', 'reviews', '--extends', 'Product');
  assert.equal(scaffold.code, 0, scaffold.stderr + scaffold.stdout);
  assert.match(scaffold.stdout, /Linked the workspace: node_modules\/@commerce\/reviews -> subgraphs\/reviews\./);
  assert.match(scaffold.stdout, /Recorded it in package-lock\.json/);
  assert.match(scaffold.stdout, /Composition check: users, products, orders, reviews compose\./);
  assert.match(scaffold.stdout, /Next steps:\n {2}1\. npm run compose/);
  const lock = JSON.parse(await readFile(join(workspace.root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  assert.deepEqual(lock.packages['node_modules/@commerce/reviews'], { resolved: 'subgraphs/reviews', link: true });
  return workspace;
}

test('a subgraph made by subgraph:new joins the running gateway on a reload, and a load loop sees zero failed requests', async (t) => {
  const defer = cleanupStack(t);
  // The gateway watches a supergraph file of its own, composed from today's SDLs.
  const dir = await mkdtemp(join(tmpdir(), 'dx-reload-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const supergraphPath = join(dir, 'supergraph.graphql');
  const today = composeFromConfig(join(REPO, 'schema', 'supergraph.yaml'));
  assert.ok(today.ok, today.ok ? '' : today.errors.join('\n'));
  await replaceFile(supergraphPath, today.supergraphSdl);
  // Uncached, so that every request of the load goes through planning and the subgraphs; cost measured, never refused.
  const platform = await startTestPlatform({
    SUPERGRAPH_PATH: supergraphPath,
    RESPONSE_CACHE: 'false',
    COST_MODE: 'measure',
  });
  defer(() => platform.stop());
  const gatewayUrl = platform.gateway.url;

  // 1. Scaffold, in a copy of the repository (this checkout is never touched).
  const workspace = await scaffoldReviews(defer);

  // 2. Its table on the platform's shards (the copy's migrations hold the new one),
  //    then the subgraph itself, from the copy, over the same databases.
  for (const shard of platform.shardMap.shards)
    await migrateDatabase(shard.primary, join(workspace.root, 'subgraphs', 'kit', 'migrations'));
  const kit = (await import(
    pathToFileURL(join(workspace.root, 'subgraphs', 'kit', 'src', 'index.ts')).href
  )) as typeof KitModule;
  const server = (await import(
    pathToFileURL(join(workspace.root, 'subgraphs', 'reviews', 'src', 'server.ts')).href
  )) as { reviewsSubgraph: SubgraphDefinition<unknown> };
  const reviews = await kit.startSubgraph(
    server.reviewsSubgraph,
    kit.loadSubgraphConfig(
      {
        HOST: '127.0.0.1',
        REPLICA_CHECK_INTERVAL_MS: '100',
        INTERNAL_IDENTITY_PUBLIC_KEY: TEST_AUTH_KEYS.internalPublicKey,
      },
      0,
      platform.shardMap,
    ),
    pino({ level: 'silent' }),
  );
  defer(() => reviews.stop());

  // 3. npm run compose, in the copy, with the routing URL where it listens.
  const yamlPath = join(workspace.root, 'schema', 'supergraph.yaml');
  const yaml = YAML.parseDocument(await readFile(yamlPath, 'utf8'));
  yaml.setIn(['subgraphs', 'reviews', 'routing_url'], reviews.url);
  await writeFile(yamlPath, String(yaml));
  const compose = await script(workspace, 'scripts/compose.ts');
  assert.equal(compose.code, 0, compose.stderr + compose.stdout);
  assert.match(compose.stdout, /Composed users, products, orders, reviews into/);
  const withReviews = await readFile(join(workspace.root, 'schema', 'supergraph.graphql'), 'utf8');

  // 4. Load, bounded in count and time, for the whole swap.
  const load = startLoad({
    url: gatewayUrl,
    query: '{ products(first: 3) { edges { node { id name price { formatted } } } } }',
  });
  let report: LoadReport | undefined;
  const stopLoad = async (): Promise<LoadReport> => (report ??= await load.stop());
  defer(stopLoad);
  await waitFor('the load loop to get going', () => load.completed() >= 50, 30_000);

  // 5a. A broken supergraph is refused, counted and logged; the old one keeps serving.
  await replaceFile(supergraphPath, 'this is { not a supergraph');
  await waitFor(
    'the failed reload',
    async () => (await metric(gatewayUrl, 'gateway_supergraph_reloads_total', { result: 'failure' })) === 1,
    20_000,
  );
  assert.equal(await metric(gatewayUrl, 'gateway_supergraph_last_reload_success'), 0);
  assert.ok(
    platform.logs.some((line) => line.msg === 'supergraph reload failed; still serving the previous supergraph'),
  );

  // 5b. The composed supergraph with reviews is swapped in.
  const beforeSwap = load.completed();
  await replaceFile(supergraphPath, withReviews);
  await waitFor(
    'the reload with reviews',
    async () => (await metric(gatewayUrl, 'gateway_supergraph_reloads_total', { result: 'success' })) === 1,
    20_000,
  );
  assert.equal(await metric(gatewayUrl, 'gateway_supergraph_last_reload_success'), 1);
  const atSwap = load.completed();
  await waitFor('requests after the swap', () => load.completed() >= atSwap + 50, 30_000);

  // 6. One query spanning products and reviews.
  const session = { 'x-session-id': 'dx-e2e' };
  const product = (await platform.gql('{ products(first: 1) { edges { node { id name } } } }')).body.data.products
    .edges[0].node;
  const created = await platform.gql(
    'mutation ($input: CreateReviewInput!) { createReview(input: $input) { id title product { name } } }',
    { input: { productId: product.id, title: 'Arrived with the reload' } },
    session,
  );
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  assert.deepEqual(created.body.data.createReview.product, { name: product.name });
  const spanning = await platform.gql(
    'query ($id: ID!) { product(id: $id) { name price { formatted } reviews(first: 5) { id title } } }',
    { id: product.id },
    session,
  );
  assert.equal(spanning.body.errors, undefined, JSON.stringify(spanning.body.errors));
  assert.equal(spanning.body.data.product.name, product.name);
  assert.deepEqual(spanning.body.data.product.reviews, [
    { id: created.body.data.createReview.id, title: 'Arrived with the reload' },
  ]);

  const { ok, failed, failures } = await stopLoad();
  t.diagnostic(
    `load: ${ok} ok, ${failed} failed; ${beforeSwap} done before the swap, ${ok + failed - atSwap} after it`,
  );
  assert.equal(failed, 0, `failed requests: ${failures.join(' | ')}`);
  assert.ok(
    beforeSwap >= 50 && ok >= atSwap + 50,
    `requests before (${beforeSwap}) and after (${ok - atSwap}) the swap`,
  );
});

test("the scaffolded subgraph's own test passes without edits once composed", async (t) => {
  const defer = cleanupStack(t);
  const workspace = await scaffoldReviews(defer);
  const compose = await script(workspace, 'scripts/compose.ts');
  assert.equal(compose.code, 0, compose.stderr + compose.stdout);
  // Its own template: the new migration changes the template key, and the shared one must stay as it is.
  const templates = await mkdtemp(join(tmpdir(), 'dx-template-'));
  defer(() => rm(templates, { recursive: true, force: true }));
  // Postgres runs as its own OS user and must reach the template.
  await chmod(templates, 0o755);
  const run = await workspace.run(process.execPath, ['--import', 'tsx', '--test', 'test/subgraphs/reviews.test.ts'], {
    TEST_PG_TEMPLATE_DIR: join(templates, 'template'),
  });
  assert.equal(run.code, 0, run.stdout.slice(-3000) + run.stderr.slice(-2000));
  assert.match(run.stdout, /# pass 3\n# fail 0/);
});
