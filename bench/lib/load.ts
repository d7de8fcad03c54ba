import { spawnChild } from './children';

/** One closed-loop load run (input of loadgen.ts). */
export interface LoadSpec {
  url: string;
  connections: number;
  /** Load first for this long, not measured (0: none). */
  warmupSeconds: number;
  durationSeconds: number;
  /** Per-request timeout. */
  timeoutSeconds: number;
  /** The POST body (a GraphQL request). */
  body: string;
  headers: Record<string, string>;
  /** The answer every response must be (bytes, or deep-equal JSON without errors) to count. */
  expectedBody: string;
  /** Sends `values[(offset + i) % n]` as `header` on request i: a new principal per request. */
  rotate?: { header: string; values: string[]; offset: number };
}

/** What one run measured (output of loadgen.ts). */
export interface LoadResult {
  /** Responses received. */
  requests: number;
  /** Requests sent (some may have been in flight at the end). */
  sent: number;
  /** Requests sent, warm-up included (rotated principals used). */
  sentWithWarmup: number;
  /** 2xx responses. */
  ok: number;
  /** 2xx responses whose body was the expected answer: the ones that count. */
  valid: number;
  /** 2xx responses with another body (errors, partial data). */
  badBodies: number;
  /** The start of the first bad body. */
  firstBadBody?: string;
  non2xx: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** Valid responses per second. */
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** `x-cache` response header values counted (our gateway's response cache: HIT, MISS, BYPASS). */
  cache: Record<string, number>;
  /**
   * When the measured run started and ended, in µs of the machine's monotonic clock (`process.hrtime`; on Linux
   * the clock of every process's CPU profile too): the profiler counts only the samples taken in between.
   */
  measuredUs: { from: number; to: number };
}

/** Runs the load generator as a child process (inheriting this process's CPUs); bounded by its warm-up and duration plus a minute. */
export async function runLoad(spec: LoadSpec, cwd: string): Promise<LoadResult> {
  const child = spawnChild({
    name: 'load generator',
    script: 'bench/lib/loadgen.ts',
    stdin: JSON.stringify(spec),
    cwd,
  });
  const deadline = setTimeout(() => void child.stop(1000), (spec.warmupSeconds + spec.durationSeconds + 60) * 1000);
  try {
    const status = await child.exited;
    if (status !== 0) throw new Error(`load generator exited with ${status}: ${child.stderrTail()}`);
    return JSON.parse(child.stdout()) as LoadResult;
  } finally {
    clearTimeout(deadline);
    await child.stop();
  }
}
