import assert from 'node:assert/strict';
import { decodeId } from '@commerce/kit';
import type { TestPlatform } from '../helpers/platform';
import { adminHeaders } from '../helpers/tokens';

/** Seeded users whose orders live on `shard` (at least 4), and a product id: what the fault tests load with. */
export async function seededOnShard(
  platform: TestPlatform,
  shard: number,
): Promise<{ users: string[]; productId: string }> {
  const res = await platform.gql(
    '{ users(first: 40) { edges { node { id } } } products(first: 1) { edges { node { id } } } }',
    {},
    // Listing users needs the admin scope (README "Authorization").
    await adminHeaders(),
  );
  const users = res.body.data.users.edges
    .map((e: { node: { id: string } }) => e.node.id)
    .filter((id: string) => platform.subgraphs.orders!.db.shardOf(decodeId('User', id)) === shard);
  assert.ok(users.length >= 4, 'seeded users on the shard');
  return { users, productId: res.body.data.products.edges[0].node.id };
}
