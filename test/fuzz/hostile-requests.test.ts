import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { hostileRequest, loadCorpus } from './hostile';
import { createPrng } from './prng';
import { send, type Outcome } from './send';

/** `FUZZ_COUNT` requests (default 1,500; `npm run fuzz` sends 10,000), from `FUZZ_SEED` (default: random, printed). */
const COUNT = Number(process.env.FUZZ_COUNT ?? 1_500);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const IN_FLIGHT = 8;
/** Every answer within this. */
const MAX_LATENCY_MS = 2_000;
/**
 * The gateway's resident memory after the run (its process tree: the tsx
 * launcher and the gateway's node): at most this much above where it started
 * (caches of documents, plans and responses fill up) and never above the absolute bound.
 */
const RSS_GROWTH_BOUND_MB = 256;
const RSS_BOUND_MB = 512;

/** Resident memory of a process and its descendants, in MB, from /proc. */
function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // Gone in between, or no children file: count the process alone.
  }
  return kb / 1024 + children.reduce((sum, child) => sum + rssMb(child), 0);
}

/** Node's limit on a request's head (request line and headers); past it the server answers 431 and closes the connection. */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * True when the request's head is over {@link MAX_HEAD_BYTES}: the server
 * answers 431 as soon as it has read that much and closes the socket, so a
 * client still writing the rest may see the connection reset before it
 * reads the 431. Such a reset is the refusal, not a failure.
 */
const oversizedHead = ({
  method,
  path,
  headers,
}: {
  method: string;
  path: string;
  headers: Record<string, string>;
}): boolean =>
  method.length + path.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) >
  MAX_HEAD_BYTES;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function fragmentBomb(n: number): string {
  let text = `query { ...F${n} }\nfragment F0 on Query { __typename }\n`;
  for (let i = 1; i <= n; i += 1) text += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
  return text;
}

describe(`hostile requests against the gateway process (FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT})`, () => {
  let platform: TestPlatform;
  let gateway: GatewayProcess;
  let base: URL;

  before(async () => {
    platform = await startTestPlatform();
    gateway = await startGatewayProcess(platform, { COST_MODE: 'enforce', NODE_ENV: 'production' });
    base = new URL(gateway.url);
  });
  after(async () => {
    await gateway?.stop();
    await platform?.stop();
  });

  const health = (): Promise<number> => fetch(new URL('/health', base)).then((r) => r.status);

  it('refuses a fragment bomb (n = 40) in under 100 ms while /health answers meanwhile', async (t) => {
    const bomb = JSON.stringify({ query: fragmentBomb(40) });
    const post = async (): Promise<{ status: number; code: unknown; ms: number }> => {
      const started = performance.now();
      const response = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bomb,
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: unknown } }[] };
      return { status: response.status, code: body.errors?.[0]?.extensions?.code, ms: performance.now() - started };
    };
    // The first request of a process pays for loading code; the bound is for the refusal itself.
    await post();
    const [refused, healthStatus] = await Promise.all([post(), health()]);
    t.diagnostic(`fragment bomb (n = 40) refused in ${refused.ms.toFixed(1)} ms`);
    assert.equal(refused.status, 400);
    assert.equal(refused.code, 'MAX_ROOT_FIELDS_EXCEEDED');
    assert.ok(refused.ms < 100, `refused in ${refused.ms.toFixed(1)} ms`);
    assert.equal(healthStatus, 200);
    assert.ok(alive(gateway.pid));
  });

  it('refuses a diamond of fragments (30 levels, one root field, 2^30 fields expanded) with MAX_SELECTIONS_EXCEEDED in under 100 ms', async () => {
    const levels = 30;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i + 1 < levels
        ? `fragment F${i} on User { ...G${i} ...H${i} } fragment G${i} on User { ...F${i + 1} } fragment H${i} on User { ...F${i + 1} }`
        : `fragment F${i} on User { id }`,
    ).join(' ');
    const body = JSON.stringify({ query: `{ me { ...F0 } } ${fragments}` });
    const post = async () => {
      const started = performance.now();
      const response = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await response.json()) as { errors?: { extensions?: { code?: unknown; limit?: unknown } }[] };
      return { status: response.status, error: answer.errors?.[0]?.extensions, ms: performance.now() - started };
    };
    await post();
    const refused = await post();
    assert.equal(refused.status, 400);
    assert.equal(refused.error?.code, 'MAX_SELECTIONS_EXCEEDED');
    assert.equal(refused.error?.limit, 5000);
    assert.ok(refused.ms < 100, `refused in ${refused.ms.toFixed(1)} ms`);
    assert.ok(alive(gateway.pid));
  });

  it(`answers ${COUNT} generated hostile requests with no 5xx, no crash, each within ${MAX_LATENCY_MS} ms, and memory back under its bound`, async (t) => {
    const prng = createPrng(SEED);
    const corpus = loadCorpus();
    const requests = Array.from({ length: COUNT }, () => hostileRequest(prng, corpus));
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const rssBefore = rssMb(gateway.pid);
    const outcomes: Array<Outcome & { index: number; kind: string }> = [];
    let next = 0;
    const startedAt = performance.now();
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index]!;
        outcomes.push({ index, kind: request.kind, ...(await send(base, agent, request, 10_000)) });
      }
    };
    try {
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    } finally {
      agent.destroy();
    }
    const seconds = (performance.now() - startedAt) / 1000;

    const statuses: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    for (const o of outcomes) {
      statuses[o.status] = (statuses[o.status] ?? 0) + 1;
      kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
    }
    const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
    const stillAlive = alive(gateway.pid);
    const healthStatus = stillAlive ? await health().catch(() => 0) : 0;
    // Garbage from the run may take a moment to be collected.
    const bound = Math.min(RSS_BOUND_MB, rssBefore + RSS_GROWTH_BOUND_MB);
    let rssAfter = stillAlive ? rssMb(gateway.pid) : 0;
    if (stillAlive)
      await waitFor(`gateway RSS under ${bound} MB`, () => (rssAfter = rssMb(gateway.pid)) < bound, 10_000).catch(
        () => undefined,
      );

    const resetOnOversizedHead = (o: Outcome & { index: number }): boolean =>
      o.status === 0 && oversizedHead(requests[o.index]!) && /ECONNRESET|EPIPE/.test(o.failure ?? '');
    const summary = {
      seed: SEED,
      count: outcomes.length,
      seconds: Number(seconds.toFixed(1)),
      retriedOnReusedSocket: outcomes.filter((o) => o.retried).length,
      resetWhileSendingOversizedHead: outcomes.filter(resetOnOversizedHead).length,
      statuses,
      kinds,
      maxLatencyMs: Number(slowest.ms.toFixed(1)),
      slowest: { index: slowest.index, kind: slowest.kind, status: slowest.status },
      rssMb: { before: Math.round(rssBefore), after: Math.round(rssAfter), bound: Math.round(bound) },
    };
    t.diagnostic(JSON.stringify(summary));
    const replay = `replay with FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT}`;
    const describeOutcome = (o: (typeof outcomes)[number]): string =>
      `#${o.index} ${o.kind} ${requests[o.index]!.method} ${requests[o.index]!.path.slice(0, 120)} → ${o.status} ${o.failure ?? ''} ${o.codes.join(',')}`;

    assert.ok(stillAlive, `the gateway process died (${replay})`);
    assert.equal(healthStatus, 200, `/health after the run (${replay})`);
    const failed = outcomes.filter(
      (o) => o.status >= 500 || o.status < 0 || (o.status === 0 && !resetOnOversizedHead(o)),
    );
    assert.deepEqual(failed.map(describeOutcome).slice(0, 20), [], `5xx or no answer (${replay})`);
    const internal = outcomes.filter(
      (o) => o.codes.includes('INTERNAL_SERVER_ERROR') || o.codes.includes('UNPARSABLE_RESPONSE'),
    );
    assert.deepEqual(internal.map(describeOutcome).slice(0, 20), [], `INTERNAL_SERVER_ERROR in a response (${replay})`);
    const slow = outcomes.filter((o) => o.ms > MAX_LATENCY_MS);
    assert.deepEqual(
      slow.map((o) => `${describeOutcome(o)} in ${o.ms.toFixed(0)} ms`).slice(0, 20),
      [],
      `answers over ${MAX_LATENCY_MS} ms (${replay})`,
    );
    assert.equal(outcomes.length, COUNT);
    assert.ok(
      rssAfter < bound,
      `gateway RSS ${rssAfter.toFixed(0)} MB after the run, bound ${bound.toFixed(0)} MB (before: ${rssBefore.toFixed(0)} MB; ${replay})`,
    );
  });
});
