/**
 * `npm start` as a real process tree: the launcher (node --import tsx
 * scripts/start.ts) over a temp DATA_DIR seeded from the test template, its
 * four Postgres servers, and its gateway and subgraph processes. Killed with
 * SIGKILL it leaves nothing behind and comes up again on the same data; a
 * subgraph killed with SIGKILL is restarted while the others keep serving;
 * with its watchdog killed too, the next start stops the stale servers;
 * SIGTERM stops the gateway, then the subgraphs, then Postgres.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive } from '@commerce/kit/embedded';
import { TEMPLATE_DIR, postGraphQL } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { killQuietly, processesMentioning } from './process-probes';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Launcher {
  child: ChildProcess;
  /** stdout and stderr lines so far. */
  lines: string[];
  gatewayUrl: string;
  /** Service PIDs from the start banner. */
  pids: Record<string, number>;
  readyMs: number;
  exited: Promise<number | null>;
}

const launchers: ChildProcess[] = [];
const servicePids = new Set<number>();

async function startLauncher(dataDir: string): Promise<Launcher> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_TEMPLATE_DIR: TEMPLATE_DIR,
      PORT: '0',
      USERS_PORT: '0',
      PRODUCTS_PORT: '0',
      ORDERS_PORT: '0',
      LOG_LEVEL: 'error',
      RESTART_DELAY_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launchers.push(child);
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(
    'the launcher to be ready',
    () => {
      if (child.exitCode !== null)
        throw new Error(`the launcher exited with ${child.exitCode}:\n${lines.slice(-30).join('\n')}`);
      // The banner ends the start output.
      return lines.some((line) => line.includes('Ctrl-C stops everything'));
    },
    120_000,
  );
  const readyMs = Date.now() - started;
  const gatewayUrl = /Gateway\s+(\S+)/.exec(lines.join('\n'))![1]!;
  const pids = Object.fromEntries(
    [...lines.find((line) => line.includes('Processes'))!.matchAll(/(\w+) pid (\d+)/g)].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );
  for (const pid of Object.values(pids)) servicePids.add(pid);
  return { child, lines, gatewayUrl, pids, readyMs, exited };
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

/** What is left of a launcher's tree: Postgres processes of the data dir, live service PIDs, listening Postgres ports. */
async function leftovers(
  dataDir: string,
  pids: number[],
): Promise<{ postgres: number[]; services: number[]; ports: number[] }> {
  const state = JSON.parse(await readFile(join(dataDir, 'cluster.json'), 'utf8')) as { ports: number[][] };
  const ports: number[] = [];
  for (const port of state.ports.flat()) if (!(await refusesConnections(port))) ports.push(port);
  return { postgres: processesMentioning(dataDir).map((p) => p.pid), services: pids.filter(isAlive), ports };
}

// A query only the users subgraph answers, open to anonymous callers (listing users needs the admin scope:
// README "Authorization"): an anonymous `me` is null without an error when the users subgraph serves.
const USERS_ONLY = '{ me { id } }';
const PRODUCTS = '{ products(first: 2) { edges { node { name } } } }';

describe('npm start under process faults', () => {
  let dataDir: string | undefined;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'commerce-launcher-'));
    await chmod(dataDir, 0o755);
  });

  after(async () => {
    for (const child of launchers) killQuietly(child.pid);
    for (const pid of servicePids) killQuietly(pid);
    if (dataDir) {
      for (const { pid } of processesMentioning(dataDir)) killQuietly(pid);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a launcher killed with SIGKILL leaves no Postgres or service process, and starts again on the same data', async () => {
    const first = await startLauncher(dataDir!);
    console.log(`[launcher] first start (template copy) ready in ${first.readyMs} ms`);
    const before = await postGraphQL(first.gatewayUrl, USERS_ONLY);
    assert.deepEqual(before.body, { data: { me: null } });
    // npm start keeps development keys in DATA_DIR/auth and prints a user's and an admin's token; both are accepted.
    const banner = first.lines.join('\n');
    const user = /authorization: Bearer ([\w.-]+)'/.exec(banner)?.[1];
    const admin = /Admin token[^\n]*\n\s*\n\s*([\w.-]+)/.exec(banner)?.[1];
    assert.ok(user && admin, `tokens printed:\n${banner}`);
    const me = await postGraphQL(first.gatewayUrl, '{ me { id } }', undefined, { authorization: `Bearer ${user}` });
    assert.match(me.body.data?.me?.id ?? '', /^usr_/, JSON.stringify(me.body));
    const listed = await postGraphQL(first.gatewayUrl, '{ users(first: 1) { edges { node { id } } } }', undefined, {
      authorization: `Bearer ${admin}`,
    });
    assert.equal(listed.body.data?.users?.edges?.length, 1, JSON.stringify(listed.body));
    assert.equal(
      (await stat(join(dataDir!, 'auth', 'internal-identity.key'))).mode & 0o077,
      0,
      'the private key is private',
    );
    const postgres = processesMentioning(dataDir!).map((p) => p.pid);
    assert.ok(postgres.length >= 4, `4 postgres servers of ${dataDir}, found ${postgres.length}`);
    assert.equal(Object.keys(first.pids).length, 4);

    const killed = Date.now();
    first.child.kill('SIGKILL');
    await first.exited;
    let left = await leftovers(dataDir!, Object.values(first.pids));
    await waitFor(
      'no process of the killed launcher',
      async () => {
        left = await leftovers(dataDir!, Object.values(first.pids));
        return left.postgres.length === 0 && left.services.length === 0 && left.ports.length === 0;
      },
      15_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(left)}`);
    });
    console.log(`[launcher] SIGKILL: all postgres and service processes gone after ${Date.now() - killed} ms`);

    const second = await startLauncher(dataDir!);
    console.log(`[launcher] restart on the same data dir ready in ${second.readyMs} ms`);
    assert.ok(
      second.lines.some((line) => line.includes('restart of existing data')),
      'the data was reused, not created again',
    );
    assert.deepEqual((await postGraphQL(second.gatewayUrl, USERS_ONLY)).body, { data: { me: null } });

    // A supervised subgraph killed outright: restarted, while the others keep serving.
    const victim = second.pids.products!;
    const crashed = Date.now();
    process.kill(victim, 'SIGKILL');
    let othersServed = 0;
    const othersFailed: string[] = [];
    await waitFor(
      'the launcher to restart products',
      async () => {
        const answer = await postGraphQL(second.gatewayUrl, USERS_ONLY);
        if (answer.status === 200 && answer.body.data?.me === null && !answer.body.errors) othersServed++;
        else othersFailed.push(JSON.stringify(answer.body).slice(0, 200));
        return second.lines.some((line) => /\[start\] products back up \(pid \d+\)/.test(line));
      },
      30_000,
    );
    const backUpMs = Date.now() - crashed;
    assert.deepEqual(othersFailed, [], 'users kept serving while products was down');
    assert.ok(
      second.lines.some((line) => line.includes(`products (pid ${victim}) killed by SIGKILL`)),
      'the crash is logged',
    );
    const restartedPid = Number(/\[start\] products back up \(pid (\d+)\)/.exec(second.lines.join('\n'))![1]);
    servicePids.add(restartedPid);
    assert.notEqual(restartedPid, victim);
    let answeredMs = 0;
    await waitFor(
      'the gateway to answer products again',
      async () => {
        const answer = await postGraphQL(second.gatewayUrl, PRODUCTS);
        answeredMs = Date.now() - crashed;
        return answer.body.data?.products?.edges.length === 2;
      },
      15_000,
    );
    console.log(
      `[launcher] products killed: back up after ${backUpMs} ms, answered through the gateway after ${answeredMs} ms; users served ${othersServed} requests meanwhile, 0 failed`,
    );

    // The launcher and its watchdog both killed: the servers stay, and the next start stops them (stale postmaster.pid).
    const watchdogs = processesMentioning(`watchdog-main.ts ${second.child.pid}`).map((p) => p.pid);
    assert.equal(watchdogs.length, 1, 'one watchdog per launcher');
    // Frozen first, so that it cannot start another watchdog when this one dies.
    process.kill(second.child.pid!, 'SIGSTOP');
    for (const pid of [...watchdogs, second.child.pid!]) process.kill(pid, 'SIGKILL');
    await second.exited;
    const stale = processesMentioning(dataDir!).map((p) => p.pid);
    assert.ok(stale.length >= 4, 'without the watchdog the servers outlive the launcher');
    for (const pid of [...Object.values(second.pids), restartedPid]) killQuietly(pid);
    const third = await startLauncher(dataDir!);
    const cleaned = third.lines.filter((line) => /stopping postgres pid \d+ left running/.test(line));
    assert.equal(cleaned.length, 4, 'the four stale servers were found and stopped');
    assert.ok(stale.every((pid) => !isAlive(pid)));
    assert.deepEqual((await postGraphQL(third.gatewayUrl, USERS_ONLY)).body, { data: { me: null } });
    console.log(
      `[launcher] launcher and watchdog SIGKILLed: next start stopped ${cleaned.length} stale servers, ready in ${third.readyMs} ms`,
    );

    // SIGTERM: gateway first, then the subgraphs, then Postgres; then the launcher exits by itself.
    const term = Date.now();
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
    const stopMs = Date.now() - term;
    const order = third.lines
      .filter((line) => /\[start\] \w+ stopped in/.test(line))
      .map((line) => /\[start\] (\w+) stopped/.exec(line)![1]);
    assert.equal(order[0], 'gateway', `stop order: ${order.join(', ')}`);
    assert.deepEqual(new Set(order.slice(1)), new Set(['users', 'products', 'orders']));
    assert.ok(
      third.lines.some((line) => line.includes('embedded Postgres stopped')),
      'Postgres stopped last',
    );
    left = await leftovers(dataDir!, Object.values(third.pids));
    assert.deepEqual(left, { postgres: [], services: [], ports: [] });
    console.log(`[launcher] SIGTERM: stopped in order ${order.join(' → ')} → postgres, exit 0 after ${stopMs} ms`);
  });
});

test('embedded Postgres stops when the process that started it dies of a fatal V8 error (heap out of memory)', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-oom-'));
  await chmod(dataDir, 0o755);
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=64', '--import', 'tsx', 'test/faults/fixtures/cluster-then-oom.ts', dataDir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(async () => {
    killQuietly(child.pid);
    for (const { pid } of processesMentioning(dataDir)) killQuietly(pid);
    await rm(dataDir, { recursive: true, force: true });
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const died = Date.now();
  const servers = (/servers ([\d ]+)/.exec(stdout)?.[1] ?? '').split(' ').filter(Boolean).map(Number);
  assert.equal(servers.length, 2, `the fixture started 2 servers: ${stdout} ${stderr}`);
  assert.match(stderr, /heap out of memory|Reached heap limit/);
  assert.ok(exit.signal === 'SIGABRT' || exit.code === 134, `a V8 abort, got ${JSON.stringify(exit)}`);
  await waitFor(
    'the servers of the dead process to stop',
    () => servers.every((pid) => !isAlive(pid)) && processesMentioning(dataDir).length === 0,
    15_000,
  );
  console.log(`[launcher] V8 heap out of memory: 2 servers stopped ${Date.now() - died} ms after the process died`);
});
