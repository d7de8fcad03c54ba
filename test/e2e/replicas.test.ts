import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { decodeId } from '@commerce/kit';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { adminHeaders, asUser } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';

const ME_ORDERS = '{ me { id orders(first: 1) { edges { node { id } } } } }';
const USER_ORDERS = 'query($id: ID!) { user(id: $id) { orders(first: 1) { edges { node { id } } } } }';
const PLACE_ORDER = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }';

describe('replicas: read/write split, read-your-writes, replica failure', () => {
  let platform: TestPlatform;
  let usersByShard: string[][];
  let productId: string;

  const shardOfUser = (id: string) => platform.subgraphs.orders.db.shardOf(decodeId('User', id));
  const statements = (shard: number, role: 'primary' | 'replica', subgraph = 'orders') =>
    platform.metric('db_statements_total', { subgraph, shard: String(shard), role });

  before(async () => {
    platform = await startTestPlatform();
    const res = await platform.gql(
      '{ users(first: 40) { edges { node { id } } } products(first: 1) { edges { node { id } } } }',
      {},
      // Listing users and reading anyone's orders needs the admin scope (README "Authorization").
      await adminHeaders(),
    );
    usersByShard = platform.shardMap.shards.map(() => []);
    for (const edge of res.body.data.users.edges) usersByShard[shardOfUser(edge.node.id)]!.push(edge.node.id);
    assert.ok(
      usersByShard.every((list) => list.length >= 2),
      'seeded users on every shard',
    );
    productId = res.body.data.products.edges[0].node.id;
  });
  after(() => platform?.stop());

  it('sends reads to replicas and writes to primaries', async () => {
    const readsBefore = { primary: await statements(0, 'primary'), replica: await statements(0, 'replica') };
    const read = await platform.gql(USER_ORDERS, { id: usersByShard[0]![0] }, await adminHeaders());
    assert.equal(read.body.errors, undefined);
    assert.equal(await statements(0, 'primary'), readsBefore.primary, 'a read does not touch the primary');
    assert.ok((await statements(0, 'replica')) > readsBefore.replica, 'a read runs on the replica');

    const writer = usersByShard[0]![1]!;
    const primaryBefore = await statements(0, 'primary');
    const replicaBefore = await statements(0, 'replica', 'products');
    const write = await platform.gql(
      PLACE_ORDER,
      { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
      await asUser(writer),
    );
    assert.equal(write.body.errors, undefined, JSON.stringify(write.body.errors));
    assert.ok(
      (await statements(0, 'primary')) >= primaryBefore + 3,
      'the order is written on its user’s primary (BEGIN, INSERTs, COMMIT)',
    );
    assert.ok((await platform.metric('db_statements_total', { subgraph: 'orders', role: 'replica' })) > 0);
    assert.ok((await statements(0, 'replica', 'products')) >= replicaBefore);
  });

  it('shows a principal its own new order at once while its shard’s replica lags 3 s; others still read the replica', async () => {
    const shard = 1;
    const replica = platform.cluster!.shards[shard]!.replicas[0]!;
    await replica.setSetting('recovery_min_apply_delay', '3s');
    try {
      const [writer, other] = usersByShard[shard]!;
      // A write made now is applied on the replica only 3 s later.
      const placed = await platform.gql(
        PLACE_ORDER,
        { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 2 }] } },
        await asUser(writer!),
      );
      assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
      const orderId: string = placed.body.data.placeOrder.id;

      const direct = new pg.Client({ connectionString: replica.url });
      await direct.connect();
      try {
        const onReplica = await direct.query('SELECT 1 FROM orders WHERE id = $1', [
          decodeId('Order', orderId).toString(),
        ]);
        assert.equal(onReplica.rowCount, 0, 'the replica really lags: the new order is not there yet');
      } finally {
        await direct.end();
      }

      const ryw = await platform.metric('db_reads_on_primary_total', {
        subgraph: 'orders',
        shard: String(shard),
        reason: 'read_your_writes',
      });
      const mine = await platform.gql(ME_ORDERS, {}, await asUser(writer!));
      assert.equal(mine.body.errors, undefined);
      assert.equal(mine.body.data.me.orders.edges[0].node.id, orderId, 'the writer sees its new order immediately');
      assert.ok(
        (await platform.metric('db_reads_on_primary_total', {
          subgraph: 'orders',
          shard: String(shard),
          reason: 'read_your_writes',
        })) > ryw,
        'served by the primary for read-your-writes',
      );

      const replicaBefore = await statements(shard, 'replica');
      const primaryBefore = await statements(shard, 'primary');
      // Another user reads the writer's orders with the admin scope (without it: FORBIDDEN).
      const theirs = await platform.gql(USER_ORDERS, { id: writer }, await asUser(other!, ['admin']));
      assert.equal(theirs.body.errors, undefined);
      assert.notEqual(
        theirs.body.data.user.orders.edges[0]?.node.id,
        orderId,
        'another principal reads the lagging replica',
      );
      assert.ok((await statements(shard, 'replica')) > replicaBefore);
      assert.equal(await statements(shard, 'primary'), primaryBefore);
    } finally {
      await replica.setSetting('recovery_min_apply_delay', '0');
    }
  });

  // A reader with the admin scope whose private answers no earlier read cached (each one a new subject).
  let readers = 0;
  const uncachedReader = () => asUser(`usr_${900_000 + readers++}`, ['admin']);

  it('keeps serving reads from the primary when a replica stops, reports it, and returns to the replica when it is back', async () => {
    const shard = 0;
    const replica = platform.cluster!.shards[shard]!.replicas[0]!;
    const user = usersByShard[shard]![0]!;
    await replica.stop();
    try {
      const res = await platform.gql(USER_ORDERS, { id: user }, await uncachedReader());
      assert.equal(res.status, 200);
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      assert.equal(res.body.data.user.orders.edges.length, 1);
      await waitFor(
        'the replica to be reported unhealthy',
        async () => (await platform.metric('db_replica_healthy', { subgraph: 'orders', shard: String(shard) })) === 0,
        5000,
      );
      const primaryBefore = await statements(shard, 'primary');
      const again = await platform.gql(USER_ORDERS, { id: user }, await uncachedReader());
      assert.equal(again.body.errors, undefined);
      assert.ok((await statements(shard, 'primary')) > primaryBefore, 'reads fall back to the primary');
      assert.ok(
        platform.logs.some(
          (line) => line.shard === String(shard) && /replica (failed|health check failed)/.test(String(line.msg)),
        ),
        'the failure is logged',
      );
    } finally {
      await replica.start();
    }
    await waitFor(
      'the replica to recover',
      async () => (await platform.metric('db_replica_healthy', { subgraph: 'orders', shard: String(shard) })) === 1,
      30_000,
    );
    const replicaBefore = await statements(shard, 'replica');
    await platform.gql(USER_ORDERS, { id: user }, await uncachedReader());
    assert.ok((await statements(shard, 'replica')) > replicaBefore, 'reads return to the replica');
  });
});
