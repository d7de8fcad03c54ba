import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { deriveNames } from '../../scripts/lib/scaffold-names';
import { applyPlan, planSubgraph } from '../../scripts/lib/scaffold';
import { cleanupStack } from './cleanup';
import { REPO, copyWorkspace } from './workspace';

test('derives every identifier from the name', () => {
  assert.deepEqual(deriveNames('gift-cards'), {
    name: 'gift-cards',
    camel: 'giftCards',
    pascal: 'GiftCards',
    entity: 'GiftCard',
    label: 'a gift card',
    entityCamel: 'giftCard',
    entityConstant: 'GIFT_CARD',
    listField: 'giftCards',
    table: 'gift_cards',
    prefix: 'gif',
  });
  const reviews = deriveNames('reviews', { parent: 'Order' });
  assert.deepEqual(reviews.parent, {
    entity: 'Order',
    field: 'order',
    label: 'an order',
    column: 'order_id',
    table: 'orders',
  });
  assert.equal(deriveNames('categories').entity, 'Category');
  assert.equal(deriveNames('inventory').listField, 'inventoryList');
});

test('refuses bad, reserved and taken names, and clashing prefixes or types, before writing anything', () => {
  const refused = (name: string, options: Parameters<typeof planSubgraph>[1], reason: RegExp) =>
    assert.throws(() => planSubgraph(name, { root: REPO, ...options }), reason, `${name} ${JSON.stringify(options)}`);
  refused('Reviews', {}, /not a valid subgraph name: use lowercase letters/);
  refused('my_reviews', {}, /not a valid subgraph name/);
  refused('-reviews', {}, /not a valid subgraph name/);
  refused('kit', {}, /"kit" is reserved/);
  refused('gateway', {}, /"gateway" is reserved/);
  refused('users', {}, /a subgraph named "users" is already in schema\/supergraph\.yaml/);
  refused('profiles', { prefix: 'usr' }, /the ID prefix "usr" belongs to User; choose another with --prefix/);
  refused('catalogue', { entity: 'Product' }, /the entity Product already has an ID prefix/);
  refused('moneys', { prefix: 'mny' }, /the supergraph already has a type Money/);
  refused('reviews', { parent: 'Money' }, /--extends must be one of User, Product, Order/);
  refused('reviews', { prefix: 'r' }, /--prefix must be 2-6 lowercase letters/);
});

test('plans the files of a subgraph without touching the repository', () => {
  const plan = planSubgraph('reviews', { root: REPO, parent: 'Product' });
  assert.equal(plan.routingUrl, `http://127.0.0.1:${plan.port}/graphql`);
  assert.match(plan.migration, /^\d{3}_reviews\.sql$/);
  const created = plan.changes.filter((c) => c.kind === 'create').map((c) => c.path.slice(REPO.length));
  assert.deepEqual(created, [
    'schema/reviews.graphql',
    'subgraphs/reviews/package.json',
    'subgraphs/reviews/src/server.ts',
    'subgraphs/reviews/src/loaders.ts',
    'subgraphs/reviews/src/resolvers.ts',
    'subgraphs/reviews/src/index.ts',
    `subgraphs/kit/migrations/${plan.migration}`,
    'test/subgraphs/reviews.test.ts',
  ]);
  for (const path of created) assert.equal(existsSync(join(REPO, path)), false, path);
  const ids = plan.changes.find((c) => c.path.endsWith('ids.ts'))!.content;
  assert.match(ids, /Order: 'ord', Review: 'rev' \} as const;/);
});

test('a scaffold interrupted halfway leaves the repository as it found it', async (t) => {
  const defer = cleanupStack(t);
  const workspace = await copyWorkspace();
  defer(() => workspace.remove());
  const plan = planSubgraph('reviews', { root: workspace.root, parent: 'Product' });
  const before = await Promise.all(
    plan.changes.filter((c) => c.kind === 'update').map((c) => readFile(c.path, 'utf8')),
  );
  // Someone else creates the test file between planning and writing.
  await mkdir(join(workspace.root, 'test', 'subgraphs'), { recursive: true });
  await writeFile(join(workspace.root, 'test', 'subgraphs', 'reviews.test.ts'), '// not ours\n');
  assert.throws(() => applyPlan(plan), /appeared meanwhile; not overwriting it/);
  for (const change of plan.changes.filter((c) => c.kind === 'create' && !c.path.endsWith('reviews.test.ts')))
    assert.equal(existsSync(change.path), false, change.path);
  assert.equal(existsSync(join(workspace.root, 'subgraphs', 'reviews')), false);
  assert.deepEqual(
    await Promise.all(plan.changes.filter((c) => c.kind === 'update').map((c) => readFile(c.path, 'utf8'))),
    before,
  );
  assert.equal(await readFile(join(workspace.root, 'test', 'subgraphs', 'reviews.test.ts'), 'utf8'), '// not ours\n');
});
