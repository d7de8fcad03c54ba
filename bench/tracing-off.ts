/**
 * npx tsx bench/tracing-off.ts [--rounds 6] [--requests 200000]
 *
 * What the tracing code costs while tracing is off (no OTEL_EXPORTER_OTLP_ENDPOINT): for one
 * request of the README's deep query, the calls the gateway and the subgraphs make into
 * common/src/telemetry.ts — the gateway's server span, a span per subgraph fetch attempt (3) with
 * trace-context injection, a server span per subgraph request (3), a span per SQL statement (6),
 * the log lines' trace id (4) — timed against the same work called directly, in alternating
 * rounds (ABAB…), in one process. The rest of the request telemetry (the latency histogram, the
 * log line, the feature's hooks) is measured by bench/telemetry-overhead.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import {
  activeTraceId,
  endServerSpan,
  inServerSpan,
  injectTraceContext,
  tracingEnabled,
  withSpan,
} from '@commerce/common';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '6' }, requests: { type: 'string', default: '200000' } },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);
if (tracingEnabled()) throw new Error('tracing must be off for this measurement');

const req = {
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
} as unknown as IncomingMessage;
const res = { statusCode: 200, writableFinished: true } as unknown as ServerResponse;
let sink = 0;
const work = async (): Promise<number> => (sink += 1);

/** One request's tracing calls, tracing off. */
async function traced(): Promise<void> {
  let inner: Promise<void> | undefined;
  inServerSpan('gateway', req, 'POST /graphql', { 'http.route': '/graphql' }, (span) => {
    inner = (async () => {
      for (let fetch = 0; fetch < 3; fetch++) {
        await withSpan('gateway', 'fetch', { 'commerce.subgraph': 'users' }, async () => {
          const headers: Record<string, string> = {};
          injectTraceContext(headers);
          inServerSpan('users', req, 'POST /graphql', {}, (subgraphSpan) => {
            endServerSpan(subgraphSpan, res, {});
          });
          for (let sql = 0; sql < 2; sql++) await withSpan('users', 'SELECT', { 'db.shard': sql }, work);
          if (activeTraceId()) sink += 1;
        });
      }
      if (activeTraceId()) sink += 1;
      endServerSpan(span, res, { 'commerce.outcome': 'ok' });
    })();
  });
  await inner;
}

/** The same work without the tracing calls. */
async function plain(): Promise<void> {
  for (let fetch = 0; fetch < 3; fetch++) {
    await (async () => {
      for (let sql = 0; sql < 2; sql++) await work();
    })();
  }
}

async function time(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) await fn();
  return Number(process.hrtime.bigint() - started) / requests;
}

await time(traced);
await time(plain);
const results: { traced: number[]; plain: number[] } = { traced: [], plain: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? (['traced', 'plain'] as const) : (['plain', 'traced'] as const);
  for (const which of order) results[which].push(await time(which === 'traced' ? traced : plain));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`tracing off, per request of the deep query (median of ${rounds} rounds × ${requests} requests):`);
console.log(`  with the tracing calls    ${median(results.traced).toFixed(0)} ns`);
console.log(`  without them              ${median(results.plain).toFixed(0)} ns`);
console.log(
  `  tracing off costs         ${(median(results.traced) - median(results.plain)).toFixed(0)} ns per request`,
);
console.log(
  `  rounds: traced ${results.traced.map((n) => n.toFixed(0)).join(' / ')}; plain ${results.plain.map((n) => n.toFixed(0)).join(' / ')}`,
);
if (sink < 0) console.log(sink);
