/**
 * npx tsx bench/cost-overhead.ts [--rounds 3] [--duration 10] [--connections 8] [--users 50]
 *
 * Throughput cost of query-cost estimation + budget check on the deep query
 * of the README. Starts the platform (embedded Postgres test template,
 * subgraphs in this process), a Redis, and two gateway processes on the same
 * subgraphs: limiter off (COST_MODE=off) and on (COST_MODE=enforce, budgets in
 * Redis, a budget too large to ever refuse, so every request pays estimate +
 * take + actual + refund). autocannon (its own process, loopback only) loads
 * one gateway at a time, in ABBA order per round, for a bounded time.
 * The response cache is off on both, so each request really executes.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../test/helpers/platform';
import { startRedis } from '../test/helpers/redis';
import { spawnGateway, type GatewayProcess } from '../test/cost/helpers';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    users: { type: 'string', default: '50' },
  },
});
const rounds = Math.min(Math.max(Number(values.rounds), 1), 10);
const duration = Math.min(Math.max(Number(values.duration), 1), 60);
const connections = Math.min(Math.max(Number(values.connections), 1), 64);
const users = Math.min(Math.max(Number(values.users), 1), 100);

const DEEP_QUERY = `{ users(first: ${users}) { edges { node { id name
  orders(first: 10) { edges { node { id status total { formatted }
    items { quantity unitPrice { formatted } product { name price { formatted } } } } } } } } } }`;

interface Round {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** One autocannon run against `url`; autocannon runs in its own process. */
function load(url: string, seconds: number): Promise<Round> {
  const args = ['-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify({ query: DEEP_QUERY }), '-j', url];
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/autocannon', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const result = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
      resolve({ requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors });
    });
  });
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const redis = await startRedis();
  const platform = await startTestPlatform({ COST_MODE: 'off' });
  const gateways: GatewayProcess[] = [];
  try {
    const subgraphUrls = Object.entries(platform.subgraphs)
      .map(([name, s]) => `${name}=${s.url}`)
      .join(',');
    const common = { SUBGRAPH_URLS: subgraphUrls, REDIS_URL: redis.url, RESPONSE_CACHE: 'false', FIELD_RATE_LIMITS: 'none', LOG_LEVEL: 'warn' };
    const off = await spawnGateway({ ...common, COST_MODE: 'off' });
    gateways.push(off);
    const on = await spawnGateway({ ...common, COST_MODE: 'enforce', COST_BUDGET_CAPACITY: '1000000000', COST_BUDGET_REFILL_PER_SECOND: '1000000000' });
    gateways.push(on);

    // Sanity: both answer the deep query, and the limiter is really on for one of them.
    for (const [name, url] of [['off', off.url], ['on', on.url]] as const) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: DEEP_QUERY }) });
      const body = (await response.json()) as { errors?: unknown[] };
      if (response.status !== 200 || body.errors) throw new Error(`limiter ${name}: HTTP ${response.status} ${JSON.stringify(body.errors)}`);
      console.log(`limiter ${name}: RateLimit ${response.headers.get('ratelimit') ?? '(none)'}`);
    }
    await load(off.url, 3);
    await load(on.url, 3);

    const results = { off: [] as Round[], on: [] as Round[] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of [...order, ...[...order].reverse()]) {
        const result = await load(which === 'on' ? on.url : off.url, duration / 2);
        results[which].push(result);
        console.log(`round ${round + 1} limiter ${which.padEnd(3)} ${result.requestsPerSecond.toFixed(1)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  non2xx ${result.non2xx}  errors ${result.errors}`);
      }
    }
    const offRps = mean(results.off.map((r) => r.requestsPerSecond));
    const onRps = mean(results.on.map((r) => r.requestsPerSecond));
    console.log(`\ndeep query (users first ${users}), ${connections} connections, ${rounds} rounds of 2 × ${duration / 2} s per mode`);
    console.log(`limiter off: ${offRps.toFixed(1)} req/s`);
    console.log(`limiter on:  ${onRps.toFixed(1)} req/s`);
    console.log(`overhead:    ${(((offRps - onRps) / offRps) * 100).toFixed(1)} %`);
  } finally {
    for (const gateway of gateways) await gateway.stop();
    await platform.stop();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
