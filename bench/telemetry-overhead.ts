/**
 * npx tsx bench/telemetry-overhead.ts [--rounds 3] [--duration 10] [--connections 8] [--warmup 10]
 *
 * What the gateway's request telemetry costs, measured in one run: three
 * gateway processes in front of the same tiny subgraph (one field, so the
 * gateway's own per-request work dominates), loaded one at a time in
 * rotating order per round by the harness's load generator (its own
 * process; every answer checked):
 * - `without`: GATEWAY_REQUEST_TELEMETRY=false, the telemetry feature left out of the pipeline;
 * - `quiet`: the feature in, tracing off, LOG_LEVEL=warn: the histogram and the feature's hooks, no log line;
 * - `off`: the feature in, tracing off (no OTEL endpoint): histogram, log line at info (to /dev/null), no span;
 * - `traced`: tracing on, every span exported over OTLP/HTTP to a receiver in this process.
 * Reports requests/s and the gateway process's CPU per request (Linux /proc),
 * which swings much less than throughput on a shared machine.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runLoad } from './lib/load';
import { CLOCK_TICKS, cpuTicks } from './lib/proc';
import { compose, replaceFile, startSubgraph, tempDir } from '../test/gateway/helpers';
import { startGatewayProcess, type GatewayProcess } from '../test/helpers/gateway-process';
import { startOtlpReceiver } from '../test/helpers/otlp-receiver';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '10' },
  },
});
const rounds = Math.min(Math.max(Number(values.rounds), 1), 10);
const duration = Math.min(Math.max(Number(values.duration), 1), 60);
const connections = Math.min(Math.max(Number(values.connections), 1), 64);
/** Seconds of unmeasured load per gateway first: the JIT warms up (throughput triples over the first seconds). */
const warmup = Math.min(Math.max(Number(values.warmup), 0), 60);
const root = fileURLToPath(new URL('..', import.meta.url));

const SDL = 'type Query { hello: String }';
const BODY = JSON.stringify({ query: 'query Hello { hello }' });
const EXPECTED = JSON.stringify({ data: { hello: 'world' } });
const MODES = ['without', 'quiet', 'off', 'traced'] as const;
type Mode = (typeof MODES)[number];

interface Round {
  requestsPerSecond: number;
  cpuMsPerRequest: number;
  p50: number;
  p99: number;
}

async function measure(gateway: GatewayProcess, seconds: number): Promise<Round> {
  const before = cpuTicks(gateway.pid);
  const result = await runLoad(
    {
      url: gateway.url,
      connections,
      warmupSeconds: 0,
      durationSeconds: seconds,
      timeoutSeconds: 10,
      body: BODY,
      headers: { 'content-type': 'application/json' },
      expectedBody: EXPECTED,
    },
    root,
  );
  if (result.valid !== result.requests)
    throw new Error(`${result.requests - result.valid} invalid answers: ${result.firstBadBody ?? ''}`);
  const cpuMsPerRequest = ((cpuTicks(gateway.pid) - before) * 1000) / CLOCK_TICKS / Math.max(result.requests, 1);
  return {
    requestsPerSecond: result.requestsPerSecond,
    cpuMsPerRequest,
    p50: result.latencyMs.p50,
    p99: result.latencyMs.p99,
  };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const subgraph = await startSubgraph('catalog', SDL, { Query: { hello: () => 'world' } });
  const dir = await tempDir();
  const receiver = await startOtlpReceiver();
  const gateways = new Map<Mode, GatewayProcess>();
  try {
    const supergraph = join(dir.path, 'supergraph.graphql');
    await replaceFile(supergraph, compose([{ name: 'catalog', url: subgraph.url, typeDefs: SDL }]));
    const common = {
      SUPERGRAPH_PATH: supergraph,
      LOG_LEVEL: 'info',
      RESPONSE_CACHE: 'false',
      COST_MODE: 'off',
      FIELD_RATE_LIMITS: 'none',
    };
    const env: Record<Mode, Record<string, string>> = {
      without: { ...common, GATEWAY_REQUEST_TELEMETRY: 'false' },
      quiet: { ...common, LOG_LEVEL: 'warn' },
      off: common,
      traced: { ...common, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    };
    for (const mode of MODES) gateways.set(mode, await startGatewayProcess({ subgraphs: {} }, env[mode]));
    for (const mode of MODES) if (warmup > 0) await measure(gateways.get(mode)!, warmup);
    const results: Record<Mode, Round[]> = { without: [], quiet: [], off: [], traced: [] };
    for (let round = 0; round < rounds; round++) {
      const order = [...MODES.slice(round % MODES.length), ...MODES.slice(0, round % MODES.length)];
      for (const mode of [...order, ...[...order].reverse()]) {
        const result = await measure(gateways.get(mode)!, duration / 2);
        results[mode].push(result);
        console.log(
          `round ${round + 1} ${mode.padEnd(7)} ${result.requestsPerSecond.toFixed(1)} req/s  gateway CPU ${result.cpuMsPerRequest.toFixed(3)} ms/req  p50 ${result.p50} ms  p99 ${result.p99} ms`,
        );
      }
    }
    console.log(
      `\nquery Hello { hello } on a one-field subgraph, uncached, ${connections} connections, ${rounds} rounds of 2 × ${duration / 2} s per mode; spans received: ${receiver.spans.length}`,
    );
    const base = mean(results.without.map((r) => r.cpuMsPerRequest));
    const baseRps = mean(results.without.map((r) => r.requestsPerSecond));
    for (const mode of MODES) {
      const rps = mean(results[mode].map((r) => r.requestsPerSecond));
      const cpu = mean(results[mode].map((r) => r.cpuMsPerRequest));
      console.log(
        `${mode.padEnd(7)} ${rps.toFixed(1)} req/s (${((rps / baseRps - 1) * 100).toFixed(1)} %), gateway CPU ${cpu.toFixed(3)} ms/req (${((cpu / base - 1) * 100).toFixed(1)} %)`,
      );
    }
  } finally {
    for (const gateway of gateways.values()) await gateway.stop();
    await receiver.stop();
    await subgraph.stop();
    await dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
