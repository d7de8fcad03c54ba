import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { decodeId } from '@commerce/kit';
import { startLoad, watchProcessErrors } from '../helpers/load';
import { crashNode, makeDurable, restartNode } from '../helpers/pg-node';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { seededOnShard } from './seeded';
import { asUser } from '../helpers/tokens';

const PLACE_ORDER = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }';
const SHARD = 0;

interface Outcome {
  startedAt: number;
  endedAt: number;
  orderId?: string;
  code?: string;
  retryable?: unknown;
}

/** A reader allowed to read anyone's orders whose private answers no earlier read cached (a new subject each time). */
let readers = 0;
const uncachedReader = () => asUser(`usr_${900_000 + readers++}`, ['admin']);

describe('a shard primary that dies under a placeOrder load', () => {
  let platform: TestPlatform;
  let users: string[];
  let productId: string;
  const processErrors = watchProcessErrors();

  before(async () => {
    // The load places more orders per user than the default field limit allows.
    platform = await startTestPlatform({ FIELD_RATE_LIMITS: 'none' });
    ({ users, productId } = await seededOnShard(platform, SHARD));
    // Measure our code, not the test cluster's disabled fsync / synchronous_commit.
    await makeDurable(platform.cluster!.shards[SHARD]!.primary);
  });
  after(async () => {
    processErrors.stop();
    await platform?.stop();
  });

  /** One client: places orders; after a retryable refusal it retries with the same idempotency key. */
  function orderingClient(): (worker: number) => Promise<Outcome> {
    const pending = new Map<number, string>();
    return async (worker) => {
      const key = pending.get(worker) ?? randomUUID();
      const startedAt = Date.now();
      const res = await platform.gql(
        PLACE_ORDER,
        { input: { idempotencyKey: key, items: [{ productId, quantity: 1 }] } },
        await asUser(users[worker % users.length]!),
      );
      const outcome: Outcome = { startedAt, endedAt: Date.now() };
      const error = res.body.errors?.[0];
      if (res.body.data?.placeOrder?.id) outcome.orderId = res.body.data.placeOrder.id;
      else outcome.code = String(error?.extensions?.code ?? `HTTP ${res.status}`);
      outcome.retryable = error?.extensions?.retryable;
      if (outcome.code === 'DATABASE_UNAVAILABLE') pending.set(worker, key);
      else pending.delete(worker);
      return outcome;
    };
  }

  async function ordersOnPrimary(ids: string[]): Promise<number> {
    const client = new pg.Client({ connectionString: platform.shardMap.shards[SHARD]!.primary });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM orders WHERE id = ANY($1::bigint[])',
        [ids.map((id) => decodeId('Order', id).toString())],
      );
      return Number(rows[0]!.n);
    } finally {
      await client.end();
    }
  }

  const health = async (url: string, path: string) => (await fetch(new URL(path, url))).status;

  it('kill -9: nothing crashes, writes get a fast retryable DATABASE_UNAVAILABLE, resume within 2 s of the return, no acknowledged order is lost', async () => {
    const primary = platform.cluster!.shards[SHARD]!.primary;
    const load = startLoad({ workers: 4, maxRequests: 4000, maxMs: 60_000, pauseMs: 10, request: orderingClient() });
    const acked = () => load.results.filter((r) => r.orderId).length;
    const refused = () => load.results.filter((r) => r.code === 'DATABASE_UNAVAILABLE').length;
    let killedAt = 0;
    let restartedAt = 0;
    let returnedAt = 0;
    try {
      await waitFor('orders placed before the kill', () => acked() >= 30, 20_000);
      const pid = await crashNode(primary);
      killedAt = Date.now();
      await waitFor(
        'writes refused while the primary is down',
        () => refused() >= 20 && Date.now() - killedAt > 1500,
        20_000,
      );
      assert.equal(primary.pid(), undefined, `postgres pid ${pid} stays down`);
      restartedAt = Date.now();
      // Resolves once the server accepts connections (seen by a poll every 100 ms).
      await restartNode(primary);
      returnedAt = Date.now();
      await waitFor(
        'an order placed after the primary returned',
        () => load.results.some((r) => r.orderId && r.endedAt > returnedAt),
        5000,
      );
      const after = acked();
      await waitFor('orders flowing again', () => acked() >= after + 20, 10_000);
    } finally {
      await load.stop();
    }
    const results = load.results;
    const outage = results.filter((r) => r.startedAt >= killedAt && r.endedAt <= restartedAt);
    const refusals = results.filter((r) => r.code === 'DATABASE_UNAVAILABLE');
    const otherErrors = results.filter((r) => !r.orderId && r.code !== 'DATABASE_UNAVAILABLE');
    // The server may accept connections up to one poll before restartNode sees it: a first success then counts as 0 ms.
    const recoveryMs = Math.max(
      0,
      Math.min(...results.filter((r) => r.orderId && r.endedAt > restartedAt).map((r) => r.endedAt)) - returnedAt,
    );
    const ackedIds = [...new Set(results.flatMap((r) => (r.orderId ? [r.orderId] : [])))];
    const refusalMs = refusals.map((r) => r.endedAt - r.startedAt).sort((a, b) => a - b);
    const ackMs = results
      .filter((r) => r.orderId)
      .map((r) => r.endedAt - r.startedAt)
      .sort((a, b) => a - b);
    const found = await ordersOnPrimary(ackedIds);
    console.log(
      `primary kill -9: ${results.length} requests, ${ackedIds.length} orders acknowledged (median ${ackMs[ackMs.length >> 1]} ms), ${refusals.length} refused with DATABASE_UNAVAILABLE ` +
        `(median ${refusalMs[refusalMs.length >> 1]} ms, max ${refusalMs.at(-1)} ms), ${otherErrors.length} other errors, ` +
        `outage ${returnedAt - killedAt} ms (restart took ${returnedAt - restartedAt} ms), writes back ${recoveryMs} ms after the primary returned, ${found}/${ackedIds.length} acknowledged orders on the primary`,
    );

    assert.deepEqual(
      processErrors.errors,
      [],
      'no uncaught exception or unhandled rejection in the process hosting the subgraphs',
    );
    assert.deepEqual(
      otherErrors.map((r) => r.code),
      [],
      'no error other than DATABASE_UNAVAILABLE (no INTERNAL_SERVER_ERROR)',
    );
    assert.ok(refusals.length >= 20);
    assert.ok(
      refusals.every((r) => r.retryable === true),
      'every refusal says retryable: true',
    );
    assert.ok(
      outage.every((r) => !r.orderId),
      'no write succeeds while the primary is down',
    );
    // Fast = no wait for the 10 s connect timeout (a refusal is ~10 ms unloaded; this machine also runs the load).
    assert.ok(
      refusalMs[refusalMs.length >> 1]! < 500 && refusalMs.at(-1)! < 2000,
      `refusals are fast (median ${refusalMs[refusalMs.length >> 1]} ms, max ${refusalMs.at(-1)} ms)`,
    );
    assert.ok(recoveryMs <= 2000, `writes succeed again within 2 s of the primary's return (took ${recoveryMs} ms)`);
    assert.equal(found, ackedIds.length, 'every acknowledged order is in the database');
    for (const running of [...Object.values(platform.subgraphs), platform.gateway])
      assert.equal(await health(running.url, '/health'), 200);
  });

  it('clean shutdown (SIGINT): /ready is 503 naming the shard while its primary is down, 200 again after, and writes resume', async () => {
    const primary = platform.cluster!.shards[SHARD]!.primary;
    const ready = async () => {
      const res = await fetch(new URL('/ready', platform.subgraphs.orders!.url));
      return { status: res.status, body: (await res.json()) as { unreachablePrimaries?: string[] } };
    };
    assert.equal((await ready()).status, 200);
    await primary.stop();
    try {
      await waitFor('/ready to turn 503', async () => (await ready()).status === 503, 5000);
      assert.deepEqual((await ready()).body.unreachablePrimaries, [platform.shardMap.shards[SHARD]!.name]);
      const started = Date.now();
      const refused = await platform.gql(
        PLACE_ORDER,
        { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
        await asUser(users[0]!),
      );
      assert.equal(
        refused.body.errors?.[0]?.extensions?.code,
        'DATABASE_UNAVAILABLE',
        JSON.stringify(refused.body.errors),
      );
      assert.equal(refused.body.errors?.[0]?.extensions?.retryable, true);
      assert.ok(Date.now() - started < 1000, 'refused at once');
      const read = await platform.gql(
        'query($id: ID!) { user(id: $id) { id orders(first: 1) { edges { node { id } } } } }',
        { id: users[1] },
        await uncachedReader(),
      );
      assert.equal(read.body.errors, undefined, `reads continue from the replica: ${JSON.stringify(read.body.errors)}`);
    } finally {
      await primary.start();
    }
    const returnedAt = Date.now();
    await waitFor('/ready back to 200 within 2 s', async () => (await ready()).status === 200, 2000);
    const placed = await platform.gql(
      PLACE_ORDER,
      { input: { idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
      await asUser(users[0]!),
    );
    assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
    console.log(`primary SIGINT: /ready 200 and writes back ${Date.now() - returnedAt} ms after the primary returned`);
    assert.deepEqual(processErrors.errors, []);
  });
});
