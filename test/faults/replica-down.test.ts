import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startLoad, watchProcessErrors } from '../helpers/load';
import { scrape, sum } from '../helpers/metrics';
import { crashNode, restartNode } from '../helpers/pg-node';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { seededOnShard } from './seeded';
import { asUser } from '../helpers/tokens';

const SHARD = 1;
const MAX_LAG_MS = 1000;
const USER_ORDERS = 'query($id: ID!) { user(id: $id) { id name orders(first: 3) { edges { node { id status } } } } }';
const PLACE_ORDER = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }';

interface Sample {
  at: number;
  healthy: number;
  lagSeconds: number;
  lagBytes: number;
}

/** A reader allowed to read anyone's orders whose private answers no earlier read cached (a new subject each time). */
let readers = 0;
const uncachedReader = () => asUser(`usr_${900_000 + readers++}`, ['admin']);

describe('a replica that dies under a read load', () => {
  let platform: TestPlatform;
  let users: string[];
  let productId: string;
  const processErrors = watchProcessErrors();

  before(async () => {
    platform = await startTestPlatform({ REPLICA_MAX_LAG_MS: String(MAX_LAG_MS), FIELD_RATE_LIMITS: 'none' });
    ({ users, productId } = await seededOnShard(platform, SHARD));
  });
  after(async () => {
    processErrors.stop();
    await platform?.stop();
  });

  /** The orders subgraph's view of the replica, from one scrape. */
  async function sample(): Promise<Sample> {
    const samples = await scrape(platform.subgraphs.orders!.url);
    const labels = { subgraph: 'orders', shard: String(SHARD), replica: '0' };
    return {
      at: Date.now(),
      healthy: sum(samples, 'db_replica_healthy', labels),
      lagSeconds: sum(samples, 'db_replica_lag_seconds', labels),
      lagBytes: sum(samples, 'db_replica_lag_bytes', labels),
    };
  }

  it('kill -9: 0 failed reads; re-admitted after its return only once its lag is under REPLICA_MAX_LAG_MS', async () => {
    const replica = platform.cluster!.shards[SHARD]!.replicas[0]!;
    const reads = startLoad({
      workers: 3,
      maxRequests: 6000,
      maxMs: 60_000,
      pauseMs: 10,
      request: async (worker) => {
        const res = await platform.gql(USER_ORDERS, { id: users[worker % users.length] }, await uncachedReader());
        return {
          ok: res.status === 200 && res.body.errors === undefined && res.body.data?.user?.id !== undefined,
          errors: res.body.errors,
        };
      },
    });
    // Writes on the shard keep its WAL moving, so that a replica held back has a lag to measure.
    const writes = startLoad({
      workers: 1,
      maxRequests: 1500,
      maxMs: 60_000,
      pauseMs: 50,
      request: async () => {
        const res = await platform.gql(
          PLACE_ORDER,
          { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
          await asUser(users.at(-1)!),
        );
        return { ok: res.body.errors === undefined };
      },
    });
    const samples: Sample[] = [];
    const watch = async (until: (s: Sample) => boolean) => {
      const s = await sample();
      samples.push(s);
      return until(s);
    };
    let readmittedAt: number | undefined;
    let returnedAt = 0;
    try {
      await waitFor('reads before the kill', () => reads.results.length >= 30, 10_000);
      await crashNode(replica);
      await waitFor('the replica to be reported down', () => watch((s) => s.healthy === 0), 5000);
      // Hold its replay 3 s behind the primary once it is back: its lag stays over the bound.
      await replica.setSetting('recovery_min_apply_delay', '3s');
      await restartNode(replica);
      returnedAt = Date.now();
      await waitFor(
        'the returned replica to report a lag over the bound',
        () => watch((s) => s.lagSeconds * 1000 > 2 * MAX_LAG_MS && s.at - returnedAt > 1500),
        15_000,
      );
      await replica.setSetting('recovery_min_apply_delay', '0');
      await waitFor('the replica to be re-admitted once it caught up', () => watch((s) => s.healthy === 1), 15_000);
      readmittedAt = Date.now();
      const onReplica = () =>
        platform.metric('db_statements_total', { subgraph: 'orders', shard: String(SHARD), role: 'replica' }, [
          'orders',
        ]);
      const before = await onReplica();
      await waitFor('reads served by the re-admitted replica', async () => (await onReplica()) > before + 10, 5000);
    } finally {
      await Promise.all([reads.stop(), writes.stop()]);
      await replica.setSetting('recovery_min_apply_delay', '0').catch(() => undefined);
    }
    const failed = reads.results.filter((r) => !r.ok);
    const afterReturn = samples.filter((s) => s.at >= returnedAt);
    const maxLag = Math.max(...afterReturn.map((s) => s.lagSeconds));
    console.log(
      `replica kill -9: ${reads.results.length} reads, ${failed.length} failed; ${writes.results.length} writes meanwhile; ` +
        `after its return the lag peaked at ${maxLag.toFixed(2)} s (${Math.max(...afterReturn.map((s) => s.lagBytes))} bytes) with REPLICA_MAX_LAG_MS=${MAX_LAG_MS}; ` +
        `re-admitted ${(readmittedAt ?? Number.NaN) - returnedAt} ms after its return at a lag of ${samples.at(-1)!.lagSeconds.toFixed(3)} s`,
    );

    assert.deepEqual(processErrors.errors, []);
    assert.deepEqual(
      failed.map((r) => r.errors),
      [],
      '0 failed reads',
    );
    assert.ok(maxLag * 1000 > MAX_LAG_MS, 'the returned replica really lagged over the bound');
    const admittedOverBound = samples.filter((s) => s.healthy === 1 && s.lagSeconds * 1000 > MAX_LAG_MS);
    assert.deepEqual(admittedOverBound, [], 'never serving reads while its lag is over REPLICA_MAX_LAG_MS');
    assert.ok(samples.at(-1)!.lagSeconds * 1000 <= MAX_LAG_MS, 're-admitted under the bound');
  });
});
