/**
 * SIGTERM under load, to real processes: the gateway (routed to a subgraph
 * whose answers the test holds back) and a standalone products subgraph (its
 * queries held by a table lock on the shard primaries). Every request the
 * server accepted must get its complete answer; new connections after the
 * listener closed may be refused (counted apart); /ready turns 503 first;
 * the process exits by itself.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { INTERNAL_IDENTITY_HEADER } from '@commerce/common';
import { buildShardMap, shardMapToJson } from '@commerce/kit';
import { isAlive, startEmbeddedCluster, type EmbeddedCluster } from '@commerce/kit/embedded';
import { templateKey } from '../../scripts/lib/platform';
import { compose, gate, startSubgraph, type TestSubgraph } from '../gateway/helpers';
import { childPids, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { TEMPLATE_DIR } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { TEST_AUTH_ENV, internalToken } from '../helpers/tokens';
import { freePort } from '../helpers/ports';
import { gql, killQuietly, request, type Outcome } from './process-probes';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IN_FLIGHT = 20;
/** Long enough to see /ready 503 and a kept-alive request answered with Connection: close before the listener closes. */
const SHUTDOWN_DELAY_MS = 1500;
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface DrainReport {
  inFlight: number;
  completed: number;
  dropped: string[];
  /** Requests on new connections from SIGTERM on: served, refused (listener closed), reset before the server read them, dropped. */
  late: { served: number; refused: number; reset: number; dropped: string[] };
  readyTurned503AfterMs: number;
  exitedAfterMs: number;
  exitCode: number | null;
}

/** The report of one drain: `answered(outcome, i)` tells a complete answer to the i-th in-flight request. */
async function drainReport(
  outcomes: readonly Outcome[],
  answered: (body: string, index: number) => boolean,
  timing: {
    late: Promise<DrainReport['late']>;
    readyTurned503AfterMs: number;
    sigterm: number;
    exitCode: number | null;
  },
): Promise<DrainReport> {
  return {
    inFlight: IN_FLIGHT,
    completed: outcomes.filter((o, i) => o.kind === 'answered' && o.status === 200 && answered(o.body, i)).length,
    dropped: outcomes
      .filter((o) => o.kind !== 'answered' || o.status !== 200)
      .map((o) => JSON.stringify(o).slice(0, 200)),
    late: await timing.late,
    readyTurned503AfterMs: timing.readyTurned503AfterMs,
    exitedAfterMs: Date.now() - timing.sigterm,
    exitCode: timing.exitCode,
  };
}

/**
 * Sends fresh-connection requests from SIGTERM until the process exits
 * (bounded: at most 200, one every 25 ms); each is served, refused, or dropped.
 */
function lateLoad(
  url: string,
  body: string,
  exited: Promise<unknown>,
  headers: Record<string, string> = {},
): Promise<DrainReport['late']> {
  const late: DrainReport['late'] = { served: 0, refused: 0, reset: 0, dropped: [] };
  let done = false;
  void exited.then(() => (done = true));
  return (async () => {
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 200 && !done; i++) {
      pending.push(
        request(url, { body, headers }).then((outcome) => {
          if (outcome.kind === 'answered' && outcome.status === 200) late.served++;
          else if (outcome.kind === 'refused') late.refused++;
          else if (outcome.kind === 'reset') late.reset++;
          else late.dropped.push(JSON.stringify(outcome).slice(0, 200));
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await Promise.all(pending);
    return late;
  })();
}

/** Waits (up to SHUTDOWN_DELAY_MS, while the listener still accepts) for `/ready` to answer 503; ms since `sigterm`. */
async function readyTurns503(base: string, sigterm: number): Promise<number> {
  return waitFor(
    '/ready to answer 503 while the listener still accepts',
    async () => {
      const ready = await request(`${base}/ready`);
      return ready.kind === 'answered' && ready.status === 503 ? Date.now() - sigterm : undefined;
    },
    SHUTDOWN_DELAY_MS,
  );
}

/** The connection is refused: the listener is closed. */
const listenerClosed = async (base: string): Promise<boolean> => (await request(`${base}/health`)).kind === 'refused';

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('SIGTERM to the gateway process under load', () => {
  let subgraph: TestSubgraph | undefined;
  let gateway: GatewayProcess | undefined;
  let dir: string | undefined;
  const held = gate();
  let arrived = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commerce-shutdown-'));
    const sdl = 'type Query { slow(i: Int!): String fast(i: Int!): String }';
    subgraph = await startSubgraph('catalog', sdl, {
      Query: {
        slow: async (_: unknown, { i }: { i: number }) => {
          arrived++;
          await held.promise;
          return `slow ${i}`;
        },
        fast: (_: unknown, { i }: { i: number }) => `fast ${i}`,
      },
    });
    const path = join(dir, 'supergraph.graphql');
    await writeFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: sdl }]));
    gateway = await startGatewayProcess(
      { subgraphs: { catalog: subgraph } },
      {
        SUPERGRAPH_PATH: path,
        SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        RESPONSE_CACHE: 'false',
      },
    );
  });

  after(async () => {
    held.open();
    killQuietly(gateway?.serverPid);
    await gateway?.stop();
    await subgraph?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('answers every accepted request, turns /ready 503 first, closes kept-alive connections, and exits by itself', async () => {
    const gw = gateway!;
    const base = new URL(gw.url).origin;
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // A kept-alive connection, idle at SIGTERM.
      const warm = await request(gw.url, { body: gql('{ fast(i: 0) }'), agent: keepAlive });
      assert.equal(warm.kind === 'answered' && warm.status, 200);

      // IN_FLIGHT requests held in the subgraph, each on its own kept-alive connection.
      const slowAgent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
      const slow = Array.from({ length: IN_FLIGHT }, (_, i) =>
        request(gw.url, { body: gql('query($i: Int!) { slow(i: $i) }', { i }), agent: slowAgent }),
      );
      await waitFor(`${IN_FLIGHT} requests in flight`, () => arrived === IN_FLIGHT, 10_000);

      const sigterm = Date.now();
      process.kill(gw.serverPid, 'SIGTERM');
      const late = lateLoad(gw.url, gql('{ fast(i: 1) }'), gw.exited);

      const readyTurned503AfterMs = await readyTurns503(base, sigterm);
      // A new request on the kept-alive connection is still served, and told to close the connection.
      const onKeptAlive = await request(gw.url, { body: gql('{ fast(i: 2) }'), agent: keepAlive });
      assert.ok(onKeptAlive.kind === 'answered' && onKeptAlive.status === 200, JSON.stringify(onKeptAlive));
      assert.equal(onKeptAlive.connection, 'close');

      // The listener closes while the held requests are still in flight; only then do their answers come.
      await waitFor('the listener to close', () => listenerClosed(base), SHUTDOWN_DELAY_MS + 5_000);
      held.open();
      const outcomes: Outcome[] = await Promise.all(slow);
      const exitCode = await gw.exited;
      const report = await drainReport(outcomes, (body, i) => JSON.parse(body).data?.slow === `slow ${i}`, {
        late,
        readyTurned503AfterMs,
        sigterm,
        exitCode,
      });
      console.log(`[shutdown] gateway: ${JSON.stringify(report)}`);
      assert.deepEqual(report.dropped, []);
      assert.equal(report.completed, IN_FLIGHT);
      assert.ok(
        outcomes.every((o) => o.kind === 'answered' && o.connection === 'close'),
        'responses in flight at SIGTERM close their connections',
      );
      assert.deepEqual(report.late.dropped, []);
      assert.equal(exitCode, 0);
      assert.ok(
        report.exitedAfterMs < SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS,
        `exited after ${report.exitedAfterMs} ms`,
      );
      slowAgent.destroy();
    } finally {
      keepAlive.destroy();
    }
  });
});

describe('SIGTERM and SIGINT to a standalone subgraph process', () => {
  let cluster: EmbeddedCluster | undefined;
  let dataDir: string | undefined;
  const started: ChildProcess[] = [];
  const lockers: pg.Client[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'commerce-shutdown-pg-'));
    await chmod(dataDir, 0o755);
    cluster = await startEmbeddedCluster({ dataDir, template: { dir: TEMPLATE_DIR, key: templateKey() }, fast: true });
  });

  after(async () => {
    for (const client of lockers) await client.end().catch(() => undefined);
    for (const child of started) {
      for (const pid of childPids(child.pid!)) killQuietly(pid);
      killQuietly(child.pid);
    }
    await cluster?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * `node --import tsx subgraphs/products/src/index.ts` (what `tsx` runs, without its wrapper, so the PID is the server's),
   * or with `viaTsx` the README's `npx tsx subgraphs/products/src/index.ts` (the PID is the wrapper's).
   */
  async function startProducts(
    env: Record<string, string> = {},
    viaTsx = false,
  ): Promise<{ child: ChildProcess; base: string; url: string }> {
    const port = await freePort();
    // Primaries only: every read goes where the test's table lock holds it (a lock reaches a replica only when its WAL is flushed).
    const shardMap = buildShardMap({
      shards: cluster!.urls().map((u, i) => ({ name: `shard${i}`, primary: u.primary, replicas: [] })),
    });
    const [command, args] = viaTsx
      ? [join(ROOT, 'node_modules/.bin/tsx'), []]
      : [process.execPath, ['--import', 'tsx']];
    const child = spawn(command, [...args, 'subgraphs/products/src/index.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        ...TEST_AUTH_ENV,
        ...env,
        SHARD_MAP: shardMapToJson(shardMap),
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    started.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      'the products subgraph to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`products exited with ${child.exitCode}`);
        const ready = await request(`${base}/ready`);
        return ready.kind === 'answered' && ready.status === 200;
      },
      30_000,
    );
    return { child, base, url: `${base}/graphql` };
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`run with tsx, exits by itself on ${signal} when idle`, async () => {
      const { child } = await startProducts({}, true);
      const server = childPids(child.pid!);
      assert.equal(server.length, 1, 'tsx runs the subgraph in one child process');
      const sent = Date.now();
      child.kill(signal);
      assert.equal(await exitOf(child), 0);
      await waitFor('the subgraph process to exit', () => !isAlive(server[0]!), 5_000);
      console.log(`[shutdown] products (tsx) idle ${signal}: exited after ${Date.now() - sent} ms`);
    });
  }

  test('answers every accepted request, turns /ready 503 first, and exits within SHUTDOWN_TIMEOUT_MS of SIGTERM', async () => {
    const { child, base, url } = await startProducts({
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      DB_POOL_SIZE: '40',
    });
    const exited = exitOf(child);
    // Hold every read of products: an exclusive lock on each shard primary.
    for (const { primary } of cluster!.urls()) {
      const client = new pg.Client({ connectionString: primary });
      client.on('error', () => undefined);
      await client.connect();
      lockers.push(client);
      await client.query('BEGIN');
      await client.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
    }
    const nodes = cluster!.urls().map((u) => u.primary);
    const waiting = async (): Promise<number> => {
      let total = 0;
      for (const node of nodes) {
        const client = new pg.Client({ connectionString: node });
        await client.connect();
        try {
          const { rows } = await client.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%from products%'`,
          );
          total += rows[0]!.n;
        } finally {
          await client.end();
        }
      }
      return total;
    };

    const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const query = gql('query($first: Int) { products(first: $first) { edges { node { id name } } } }', { first: 3 });
    // A subgraph answers only calls the gateway signed: sign as the gateway would.
    const headers = { [INTERNAL_IDENTITY_HEADER]: internalToken('products') };
    const held = Array.from({ length: IN_FLIGHT }, () => request(url, { body: query, headers, agent }));
    await waitFor(`${IN_FLIGHT} product reads waiting on the lock`, async () => (await waiting()) >= IN_FLIGHT, 10_000);

    const sigterm = Date.now();
    child.kill('SIGTERM');
    const late = lateLoad(url, gql('{ __typename }'), exited, headers);
    const readyTurned503AfterMs = await readyTurns503(base, sigterm);
    await waitFor('the listener to close', () => listenerClosed(base), SHUTDOWN_DELAY_MS + 5_000);
    for (const client of lockers.splice(0)) {
      await client.query('COMMIT');
      await client.end();
    }
    const outcomes = await Promise.all(held);
    const exitCode = await exited;
    const report = await drainReport(outcomes, (body) => JSON.parse(body).data?.products.edges.length === 3, {
      late,
      readyTurned503AfterMs,
      sigterm,
      exitCode,
    });
    agent.destroy();
    console.log(`[shutdown] products: ${JSON.stringify(report)}`);
    assert.deepEqual(report.dropped, []);
    assert.equal(report.completed, IN_FLIGHT);
    assert.deepEqual(report.late.dropped, []);
    assert.equal(exitCode, 0);
    assert.ok(
      report.exitedAfterMs < SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS,
      `exited after ${report.exitedAfterMs} ms`,
    );
  });
});
