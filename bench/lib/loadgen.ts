/**
 * The load generator, as its own process so it never shares an event loop
 * with the subgraphs: reads a {@link LoadSpec} (JSON) on stdin, runs
 * autocannon (closed loop: each connection sends its next request when the
 * previous answer arrives) and prints a {@link LoadResult} (JSON) on stdout.
 * Every response is checked: it counts only if it is 2xx and its body is the
 * expected answer (the same bytes, or deep-equal JSON without `errors`).
 */
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './load';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** True for the expected answer; the byte comparison is the fast path (autocannon reads every body anyway). */
function bodyVerifier(expected: string): (body: string) => boolean {
  const expectedJson = JSON.parse(expected) as unknown;
  let lastGood = expected;
  return (body) => {
    if (body === expected || body === lastGood) return true;
    let json: { errors?: unknown } | undefined;
    try {
      json = JSON.parse(body) as { errors?: unknown };
    } catch {
      return false;
    }
    if (json?.errors !== undefined || !isDeepStrictEqual(json, expectedJson)) return false;
    lastGood = body; // same data, other key order or spacing: remember it so the next one is a byte comparison
    return true;
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(await readStdin()) as LoadSpec;
  const rotate = spec.rotate;
  let next = rotate?.offset ?? 0;
  const verify = bodyVerifier(spec.expectedBody);
  let valid = 0;
  let badBodies = 0;
  let firstBadBody: string | undefined;
  const cache: Record<string, number> = {};
  const run = (durationSeconds: number, count: boolean) =>
    autocannon({
      url: spec.url,
      connections: spec.connections,
      duration: durationSeconds,
      timeout: spec.timeoutSeconds,
      requests: [
        {
          method: 'POST',
          headers: spec.headers,
          body: spec.body,
          // Rotating a header (a new principal per request) defeats the response cache on purpose.
          ...(rotate
            ? {
                setupRequest: (request) => ({
                  ...request,
                  headers: { ...request.headers, [rotate.header]: rotate.values[next++ % rotate.values.length]! },
                }),
              }
            : {}),
          onResponse: (status, body, _context, headers) => {
            if (!count) return;
            const cacheStatus = headers?.['x-cache'];
            if (typeof cacheStatus === 'string') cache[cacheStatus] = (cache[cacheStatus] ?? 0) + 1;
            if (status < 200 || status > 299) return;
            if (verify(body)) valid++;
            else {
              badBodies++;
              firstBadBody ??= body.slice(0, 300);
            }
          },
        },
      ],
    });
  // Warm-up in the same process: same connections and principals sequence, nothing counted.
  const warmup = spec.warmupSeconds > 0 ? await run(spec.warmupSeconds, false) : undefined;
  const measuredFrom = process.hrtime.bigint();
  const result = await run(spec.durationSeconds, true);
  const measuredTo = process.hrtime.bigint();
  const out: LoadResult = {
    requests: result.requests.total,
    sent: result.requests.sent,
    sentWithWarmup: result.requests.sent + (warmup?.requests.sent ?? 0),
    ok: result['2xx'],
    valid,
    badBodies,
    ...(firstBadBody === undefined ? {} : { firstBadBody }),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    requestsPerSecond: valid / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    cache,
    measuredUs: { from: Number(measuredFrom / 1000n), to: Number(measuredTo / 1000n) },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
