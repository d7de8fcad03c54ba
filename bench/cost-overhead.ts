/**
 * npx tsx bench/cost-overhead.ts [--rounds 3] [--duration 10] [--connections 8] [--users 50] [--cached]
 *
 * Throughput cost of query-cost estimation + budget check on the deep query
 * of the README. Starts the platform (embedded Postgres test template,
 * subgraphs in this process), a Redis, and two gateway processes on the same
 * subgraphs: limiter off (COST_MODE=off) and on (COST_MODE=enforce, budgets in
 * Redis, a budget too large to ever refuse, so every request pays estimate +
 * take + actual + refund). autocannon (its own process, loopback only) loads
 * one gateway at a time, in ABBA order per round, for a bounded time.
 * The response cache is off on both, so each request really executes; with
 * `--cached` it is on (in Redis, with the in-memory hot path) and every
 * measured request is a hit that still passes the cost budget (leased from
 * Redis) when the limiter is on.
 *
 * Besides requests/s it reports the CPU time each gateway process spent per
 * request (Linux /proc): on a machine shared with other work, throughput
 * swings with the neighbours, CPU per request much less.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CLOCK_TICKS, cpuTicks } from './lib/proc';
import { startTestPlatform } from '../test/helpers/platform';
import { startRedis } from '../test/helpers/redis';
import { adminHeaders } from '../test/helpers/tokens';
import { startGatewayProcess, type GatewayProcess } from '../test/helpers/gateway-process';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    users: { type: 'string', default: '50' },
    cached: { type: 'boolean', default: false },
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
  /** Gateway process CPU per completed request, ms; NaN where /proc is missing. */
  cpuMsPerRequest: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** One autocannon run against `gateway`; autocannon runs in its own process. */
async function load(gateway: GatewayProcess, seconds: number): Promise<Round> {
  const before = cpuTicks(gateway.pid);
  const result = await autocannon(gateway.url, seconds);
  const cpuMsPerRequest = ((cpuTicks(gateway.pid) - before) * 1000) / CLOCK_TICKS / Math.max(result.total, 1);
  return { ...result, cpuMsPerRequest };
}

function autocannon(url: string, seconds: number): Promise<Omit<Round, 'cpuMsPerRequest'> & { total: number }> {
  const args = [
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    JSON.stringify({ query: DEEP_QUERY }),
    '-j',
    url,
  ];
  // The deep query lists users and their private orders: an administrator's bearer token (cached per caller).
  if (caller) args.push('-H', `authorization=${caller}`);
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/autocannon', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const result = JSON.parse(out) as {
        requests: { average: number; total: number };
        latency: { p50: number; p99: number };
        non2xx: number;
        errors: number;
      };
      resolve({
        requestsPerSecond: result.requests.average,
        total: result.requests.total,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      });
    });
  });
}

/** The `Authorization` value every request is sent with (an administrator's token). */
let caller: string | undefined;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const redis = await startRedis();
  const platform = await startTestPlatform({ COST_MODE: 'off' });
  const gateways: GatewayProcess[] = [];
  try {
    const common = { REDIS_URL: redis.url, RESPONSE_CACHE: String(values.cached), FIELD_RATE_LIMITS: 'none' };
    const off = await startGatewayProcess(platform, { ...common, COST_MODE: 'off' });
    gateways.push(off);
    const on = await startGatewayProcess(platform, {
      ...common,
      COST_MODE: 'enforce',
      COST_BUDGET_CAPACITY: '1000000000',
      COST_BUDGET_REFILL_PER_SECOND: '1000000000',
    });
    gateways.push(on);

    caller = (await adminHeaders()).authorization;
    // Sanity: both answer the deep query, and the limiter is really on for one of them.
    for (const [name, url] of [
      ['off', off.url],
      ['on', on.url],
    ] as const) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...(caller ? { authorization: caller } : {}),
      };
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: DEEP_QUERY }) });
      const body = (await response.json()) as { errors?: unknown[] };
      if (response.status !== 200 || body.errors)
        throw new Error(`limiter ${name}: HTTP ${response.status} ${JSON.stringify(body.errors)}`);
      console.log(`limiter ${name}: RateLimit ${response.headers.get('ratelimit') ?? '(none)'}`);
    }
    await load(off, 3);
    await load(on, 3);

    const results = { off: [] as Round[], on: [] as Round[] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of [...order, ...[...order].reverse()]) {
        const result = await load(which === 'on' ? on : off, duration / 2);
        results[which].push(result);
        console.log(
          `round ${round + 1} limiter ${which.padEnd(3)} ${result.requestsPerSecond.toFixed(1)} req/s  gateway CPU ${result.cpuMsPerRequest.toFixed(2)} ms/req  p50 ${result.p50} ms  p99 ${result.p99} ms  non2xx ${result.non2xx}  errors ${result.errors}`,
        );
      }
    }
    const offRps = mean(results.off.map((r) => r.requestsPerSecond));
    const onRps = mean(results.on.map((r) => r.requestsPerSecond));
    const offCpu = mean(results.off.map((r) => r.cpuMsPerRequest));
    const onCpu = mean(results.on.map((r) => r.cpuMsPerRequest));
    const what = values.cached ? 'cache hits' : 'uncached';
    console.log(
      `\ndeep query (users first ${users}), ${what}, ${connections} connections, ${rounds} rounds of 2 × ${duration / 2} s per mode`,
    );
    console.log(`limiter off: ${offRps.toFixed(1)} req/s, gateway CPU ${offCpu.toFixed(2)} ms/req`);
    console.log(`limiter on:  ${onRps.toFixed(1)} req/s, gateway CPU ${onCpu.toFixed(2)} ms/req`);
    console.log(
      `overhead:    ${(((offRps - onRps) / offRps) * 100).toFixed(1)} % fewer req/s, ${(((onCpu - offCpu) / offCpu) * 100).toFixed(1)} % more gateway CPU per request`,
    );
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
