/**
 * npm run bench:cache [-- --duration 10 --connections 10 --rounds 2 --redis]
 *
 * The deep query (50 users → 10 orders each → items → product) through one
 * gateway, cache hits against cache misses, alternating rounds in one run so
 * machine noise hits both alike. Misses rotate the principal (x-user-id): the
 * response holds private orders, so each principal has its own entry. Loopback
 * only, bounded by --duration per round. Not a test.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { startPlatform } from '../scripts/lib/platform';
import { startRedis } from '../test/helpers/redis';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    redis: { type: 'boolean', default: false },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);

const DEEP = `query Deep { users(first: 50) { edges { node { id name orders(first: 10) { edges { node { id status total { amount }
  items { quantity unitPrice { amount } product { name price { amount currency } } } } } } } } } }`;

interface Row {
  mode: 'hit' | 'miss';
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-cache-'));
  await chmod(dataDir, 0o755);
  const redis = values.redis ? await startRedis() : undefined;
  const platform = await startPlatform({
    embedded: { dataDir, templateDir: join(tmpdir(), 'commerce-test-template'), fast: true },
    env: { LOG_LEVEL: 'warn', ...(redis ? { REDIS_URL: redis.url } : {}) },
    logger: pino({ level: 'warn' }),
  });
  try {
    const ids = await fetch(platform.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 100) { edges { node { id } } } }' }),
    }).then(async (r) => ((await r.json()) as { data: { users: { edges: { node: { id: string } }[] } } }).data.users.edges.map((e) => e.node.id));
    const body = JSON.stringify({ query: DEEP });
    // Principals beyond the first 100 are synthesised: any valid user ID keys its own private entry.
    let next = 0;
    const principal = (i: number) => (i < ids.length ? ids[i]! : `usr_${4_198_501_793_793 + i * 4096}`);

    async function run(mode: 'hit' | 'miss'): Promise<Row> {
      const result = await autocannon({
        url: platform.gateway.url,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'x-user-id': mode === 'hit' ? ids[0]! : principal(1 + next++) } }),
          },
        ],
      });
      return { mode, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
    }

    await run('hit'); // warm-up: JIT, connection pools, the hit entry
    const rows: Row[] = [];
    for (let round = 0; round < rounds; round++) rows.push(await run('miss'), await run('hit'));
    const mean = (mode: Row['mode'], field: 'rps' | 'p50' | 'p99') => {
      const of = rows.filter((r) => r.mode === mode);
      return of.reduce((n, r) => n + r[field], 0) / of.length;
    };
    console.log(`\nDeep query, one gateway, ${connections} connections, ${rounds} rounds × ${duration} s each, store: ${redis ? 'Redis' : 'in process'}, Node ${process.version}`);
    console.log('| round | mode | requests/s | p50 ms | p99 ms | errors | non-2xx |');
    console.log('|---|---|---|---|---|---|---|');
    rows.forEach((r, i) => console.log(`| ${Math.floor(i / 2) + 1} | ${r.mode} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`));
    console.log(`\nmean: miss ${mean('miss', 'rps').toFixed(1)} req/s (p99 ${mean('miss', 'p99').toFixed(0)} ms), hit ${mean('hit', 'rps').toFixed(1)} req/s (p99 ${mean('hit', 'p99').toFixed(0)} ms): hits are ${(mean('hit', 'rps') / mean('miss', 'rps')).toFixed(1)}× misses`);
  } finally {
    await platform.stop();
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
