import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus as osCpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from './options';
import { TARGETS, type TargetDefinition, type WorkloadId } from './targets';
import { compare, parseJson, post, type Comparison } from './lib/check';
import { startedProcesses, stopAllChildren } from './lib/children';
import { cpuCount, pinSelf, planPinning, type Pinning } from './lib/cpus';
import { startInstance, type Instance } from './lib/instance';
import { runLoad, type LoadResult, type LoadSpec } from './lib/load';
import { startOtlpReceiver, type OtlpReceiver } from '../test/helpers/otlp-receiver';
import type { BenchmarkReport, Row, WorkloadReport } from './lib/report';
import { COMMERCE_QUERY, startCommerceWorkload } from './workload/commerce';
import { startStandardSubgraphs } from './workload/standard/server';
import { STANDARD_QUERY } from './workload/standard/subgraphs';
import { composeStandardSupergraph } from './workload/standard/supergraph';
import { DEV_AUDIENCE, DEV_ISSUER, generateDevAuthKeys, mintDevToken } from '../scripts/lib/dev-auth';
import { GATEWAY_BUNDLE, buildGateway } from '../scripts/build-gateway';

/** How our gateway is meant to run (`npm run gateway`): a bounded old generation and 16 MiB semi-spaces keep peak RSS under 200 MiB; with admission control few operations are live at once, so 32 MiB would buy ~15% CPU for ~40 MiB more. */
export const GATEWAY_NODE_OPTIONS = ['--max-old-space-size=256', '--max-semi-space-size=16'] as const;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOAD_GENERATOR = 'autocannon 8 (its own process)';
/** Distinct principals handed to the load generator for cache misses; it cycles through them. */
const MISS_PRINCIPALS = 100_000;

export type Log = (line: string) => void;

/** Stoppers of what the current run started (children, subgraphs, databases), last first. */
const cleanups: Array<() => Promise<void>> = [];

/** Stops everything the benchmark started; for signal handlers. Safe to call twice. */
export async function stopEverything(): Promise<void> {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => undefined);
  await stopAllChildren();
}

/** A target being measured: its instance, check and runs. */
export interface Subject {
  readonly instance: Instance;
  readonly headers: () => Record<string, string>;
  /** Principals for cache misses; `offset` moves past those already sent, so no run reuses a principal. */
  readonly rotate: LoadSpec['rotate'];
  check: Comparison;
  fetchesPerOperation: number | null;
  statementsPerOperation: number | null;
  readonly rounds: LoadResult[];
  /** Per round: CPU ms the target's processes used per response in the measured run (null without /proc). */
  readonly cpuMsPerResponse: Array<number | null>;
}

/** What a workload gives the shared measuring code. */
export interface WorkloadContext {
  readonly id: WorkloadId;
  readonly body: string;
  readonly reference: { text: string; json: unknown };
  /** Work the subgraphs did so far (subgraph requests or SQL statements). */
  readonly work: () => Promise<number>;
  readonly workKind: 'fetches' | 'statements';
}

/** A workload running for measurement: its subgraphs, its reference answer, and how to start a target on it. */
export interface PreparedWorkload {
  readonly context: WorkloadContext;
  /** The report's description of the workload (everything but what the runs measured). */
  readonly header: Omit<WorkloadReport, 'order' | 'rows' | 'serviceLogs'>;
  /**
   * Starts a target on this workload exactly as the benchmark measures it (environment, node flags, CPUs),
   * not yet checked. `extraNodeOptions` go after the harness's own node flags (the profiler's `--cpu-prof`).
   */
  start(definition: TargetDefinition, workers: number, extraNodeOptions?: readonly string[]): Promise<Subject>;
  /** Warnings and errors the workload's own services logged so far (commerce). */
  serviceLogs(): WorkloadReport['serviceLogs'];
  /** Stops the subgraphs (and databases) and whatever the workload started for its targets. */
  stop(): Promise<void>;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  } catch {
    return undefined;
  }
}

/** a ÷ b, or null when b is not a positive number (a target that completed nothing has no ratio). */
const divide = (a: number, b: number): number | null =>
  b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : null;
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/** Checks a freshly started target against the reference: fails loudly on any difference. */
export async function checkSubject(subject: Subject, context: WorkloadContext, log: Log): Promise<void> {
  const { instance } = subject;
  const once = async () => {
    const before = await context.work();
    const received = await post(instance.url, context.body, subject.headers());
    const work = (await context.work()) - before;
    const comparison = compare(received, context.reference);
    if (!comparison.deepEqual) {
      throw new Error(
        `${instance.key}: its answer is not deep-equal to the reference (${comparison.difference}); first bytes: ${received.text.slice(0, 300)}`,
      );
    }
    return { comparison, work, cacheStatus: received.headers.get('x-cache') };
  };
  let result = await once();
  if (instance.definition.cache === 'hit') {
    // Without Redis each worker has its own in-process cache: every worker's first
    // request fills its cache, so within workers + 1 more requests one must be a hit.
    for (let i = 0; i <= instance.workers; i++) {
      result = await once();
      if (result.cacheStatus === 'HIT') break;
    }
    if (result.cacheStatus !== 'HIT')
      throw new Error(
        `${instance.key}: no cache hit in ${instance.workers + 1} identical requests after the first (x-cache: ${result.cacheStatus ?? 'absent'})`,
      );
  }
  subject.check = result.comparison;
  if (context.workKind === 'fetches') subject.fetchesPerOperation = result.work;
  else subject.statementsPerOperation = result.work;
  log(
    `  ${instance.key}: ${result.comparison.bytesIdentical ? 'same bytes as' : 'deep-equal to'} the reference; ${result.work} ${context.workKind === 'fetches' ? 'subgraph fetches' : 'SQL statements'} per operation`,
  );
}

/** Workers seen in a tree of `processes` Node processes: a node:cluster primary and its workers, or one process serving alone. */
function workersSeen(processes: number): number {
  return processes > 1 ? processes - 1 : processes;
}

/** Waits (at most 15 s) until the subgraphs' work counter stops moving: the target has drained its backlog. */
export async function quiesce(work: () => Promise<number>): Promise<void> {
  let last = await work();
  for (let waited = 0, still = 0; waited < 15_000 && still < 2; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await work();
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/** The load generator's input for one run against a subject (every response checked against the reference). */
export function loadSpec(
  subject: Subject,
  context: WorkloadContext,
  run: { connections: number; warmupSeconds: number; durationSeconds: number },
): LoadSpec {
  return {
    url: subject.instance.url,
    connections: run.connections,
    warmupSeconds: run.warmupSeconds,
    durationSeconds: run.durationSeconds,
    timeoutSeconds: 30,
    body: context.body,
    headers: { 'content-type': 'application/json', ...subject.headers() },
    expectedBody: context.reference.text,
    ...(subject.rotate ? { rotate: subject.rotate } : {}),
  };
}

/** One load run against a subject, then the drain of its backlog; fails if the target exited meanwhile. */
export async function loadSubject(subject: Subject, context: WorkloadContext, spec: LoadSpec): Promise<LoadResult> {
  const { instance } = subject;
  const result = await runLoad(spec, ROOT);
  if (subject.rotate) subject.rotate.offset += result.sentWithWarmup;
  // What the target still owes the subgraphs must not land on the next target's run.
  await quiesce(context.work);
  const status = instance.child.exitStatus();
  if (status !== undefined)
    throw new Error(
      `${instance.key} exited (${status}) during its run:\n${instance.child.stderrTail()}\n${instance.child.stdout().slice(-2000)}`,
    );
  return result;
}

/** CPU ms the instance's processes used per response during the measured part of a run (null without /proc or responses). */
export function cpuMsPerResponse(instance: Instance, result: LoadResult): number | null {
  const seconds = instance.cpuSecondsBetween(result.measuredUs.from, result.measuredUs.to);
  return seconds === undefined || result.requests === 0 ? null : (seconds * 1000) / result.requests;
}

/** Runs the rounds: every subject once per round, in order; warm-up before each one's first run. */
async function runRounds(
  subjects: Subject[],
  context: WorkloadContext,
  options: BenchOptions,
  log: Log,
): Promise<void> {
  for (let round = 0; round < options.rounds; round++) {
    for (const subject of subjects) {
      const { instance } = subject;
      const spec = loadSpec(subject, context, {
        connections: options.connections,
        warmupSeconds: round === 0 ? options.warmupSeconds : 0,
        durationSeconds: options.durationSeconds,
      });
      const stopSampling = instance.sample();
      let result: LoadResult;
      try {
        result = await loadSubject(subject, context, spec);
      } finally {
        await stopSampling();
      }
      subject.rounds.push(result);
      const cpu = cpuMsPerResponse(instance, result);
      subject.cpuMsPerResponse.push(cpu);
      log(
        `  round ${round + 1}/${options.rounds} ${instance.key}: ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
          `CPU ${cpu === null ? '–' : cpu.toFixed(2)} ms/response, ` +
          `${result.non2xx} non-2xx, ${result.errors} errors, ${result.badBodies} bad bodies, RSS ${instance.memory.totalMiB.toFixed(0)} MiB`,
      );
    }
  }
}

type RowBase = Omit<Row, 'ratio' | 'p99Ratio' | 'ceilingShare' | 'versus'>;

/** This row against the target its definition names in `versus`, at the same worker count. */
function versusOf(row: RowBase, rows: readonly RowBase[]): Row['versus'] {
  const twinId = TARGETS.find((t) => t.id === row.target)?.versus;
  const twin = twinId === undefined ? undefined : rows.find((r) => r.target === twinId && r.workers === row.workers);
  if (!twin) return null;
  return {
    target: twin.target,
    ratio: divide(row.requestsPerSecond, twin.requestsPerSecond),
    p99Ratio: divide(row.p99Ms, twin.p99Ms),
    cpuRatio:
      row.cpuMsPerResponse === null || twin.cpuMsPerResponse === null
        ? null
        : divide(row.cpuMsPerResponse, twin.cpuMsPerResponse),
    // Round i of both ran back to back: the per-round ratio shows how much of the mean's ratio is noise.
    perRound: row.rounds.map((r, i) =>
      twin.rounds[i] ? divide(r.requestsPerSecond, twin.rounds[i].requestsPerSecond) : null,
    ),
  };
}

function toRows(subjects: Subject[], baseline: string, pinning: Pinning): Row[] {
  const rows = subjects.map((subject): RowBase => {
    const { instance, rounds } = subject;
    const processes = instance.memory.processes;
    const total = (of: (r: LoadResult) => number) => rounds.reduce((n, r) => n + of(r), 0);
    const firstBadBody = rounds.find((r) => r.firstBadBody !== undefined)?.firstBadBody;
    const cache: Record<string, number> = {};
    for (const r of rounds) for (const [k, n] of Object.entries(r.cache)) cache[k] = (cache[k] ?? 0) + n;
    const cacheSeen = Object.values(cache).reduce((a, b) => a + b, 0);
    return {
      key: instance.key,
      target: instance.definition.id,
      label: instance.definition.label,
      cache: instance.definition.cache,
      workers: instance.workers,
      processes,
      workersHonoured: workersSeen(processes) === instance.workers,
      cpus: pinning.kind === 'pinned' && instance.cpus ? instance.cpus.join(',') : 'any',
      requestsPerSecond: mean(rounds.map((r) => r.requestsPerSecond)),
      p50Ms: mean(rounds.map((r) => r.latencyMs.p50)),
      p99Ms: mean(rounds.map((r) => r.latencyMs.p99)),
      cpuMsPerResponse: subject.cpuMsPerResponse.every((c) => c !== null)
        ? mean(subject.cpuMsPerResponse as number[])
        : null,
      cpuMsPerResponseRounds: subject.cpuMsPerResponse,
      errors: {
        non2xx: total((r) => r.non2xx),
        socket: total((r) => r.errors),
        timeouts: total((r) => r.timeouts),
        badBodies: total((r) => r.badBodies),
        ...(firstBadBody === undefined ? {} : { firstBadBody }),
      },
      responses: total((r) => r.requests),
      peakRssMiB: { total: instance.memory.totalMiB, perProcess: instance.memory.perProcessMiB },
      check: subject.check,
      subgraphFetchesPerOperation: subject.fetchesPerOperation,
      sqlStatementsPerOperation: subject.statementsPerOperation,
      cacheHitRatio: instance.definition.cache !== 'off' && cacheSeen > 0 ? (cache.HIT ?? 0) / cacheSeen : null,
      cacheStatuses: cache,
      rounds,
    };
  });
  const ceiling = rows.find((r) => r.target === 'ceiling');
  return rows.map((row) => {
    // The ceiling is one process: compare it with the baseline's smallest worker count.
    const base = rows.find(
      (r) => r.target === baseline && (row.target === 'ceiling' ? true : r.workers === row.workers),
    );
    const own = base === row;
    return {
      ...row,
      ratio: base && !own ? divide(row.requestsPerSecond, base.requestsPerSecond) : null,
      p99Ratio: base && !own ? divide(row.p99Ms, base.p99Ms) : null,
      ceilingShare: ceiling && ceiling !== row ? divide(row.requestsPerSecond, ceiling.requestsPerSecond) : null,
      versus: versusOf(row, rows),
    };
  });
}

function newSubject(instance: Instance, headers: () => Record<string, string>, rotate?: LoadSpec['rotate']): Subject {
  return {
    instance,
    headers,
    rotate,
    check: { deepEqual: false, bytesIdentical: false, difference: 'not checked' },
    fetchesPerOperation: null,
    statementsPerOperation: null,
    rounds: [],
    cpuMsPerResponse: [],
  };
}

/** Which definitions of a workload run, at which worker counts, in run order. */
function plan(workload: WorkloadId, options: BenchOptions): Array<{ definition: TargetDefinition; workers: number }> {
  const selected = TARGETS.filter((t) => t.workload === workload && options.targets.includes(t.id));
  const scaled = options.workers.flatMap((workers) =>
    selected.filter((t) => t.kind !== 'ceiling').map((definition) => ({ definition, workers })),
  );
  const single = selected.filter((t) => t.kind === 'ceiling').map((definition) => ({ definition, workers: 1 }));
  // The ceiling goes after the first worker count's gateways, so one round reads A B C D at 1 worker.
  const first = scaled.filter((s) => s.workers === options.workers[0]);
  return [...first, ...single, ...scaled.filter((s) => s.workers !== options.workers[0])];
}

function gatewayCpus(pinning: Pinning, workers: number): readonly number[] | undefined {
  return pinning.kind === 'pinned' ? pinning.gateway.get(workers) : undefined;
}

/** Options of {@link prepareStandard}. */
export interface PrepareStandardOptions {
  /** Worker count of the stock Apollo Gateway started for the reference answer. */
  readonly stockWorkers: number;
  /** Keep that stock gateway for `start` to hand out once (it is measured too); false: stop it once it answered. */
  readonly keepStock: boolean;
}

/** The standard workload: its four subgraphs, stock Apollo Gateway's answer as the reference. */
let built: Promise<void> | undefined;

/** Our gateway runs as `npm run gateway` runs it: the bundle (`npm run build:gateway`), built once per run from the sources. */
function buildOurs(log: Log): Promise<void> {
  built ??= (log(`building ${GATEWAY_BUNDLE} (npm run build:gateway)`), buildGateway());
  return built;
}

export async function prepareStandard(
  pinning: Pinning,
  tmp: string,
  log: Log,
  prepare: PrepareStandardOptions,
): Promise<PreparedWorkload> {
  await buildOurs(log);
  log('standard workload: starting the four subgraphs');
  const subgraphs = await startStandardSubgraphs();
  cleanups.push(() => subgraphs.stop());
  const supergraphPath = join(tmp, 'standard.supergraph.graphql');
  await writeFile(supergraphPath, composeStandardSupergraph(subgraphs.urls));
  const body = JSON.stringify({ query: STANDARD_QUERY });
  const common = { NODE_ENV: 'production', SUPERGRAPH_PATH: supergraphPath };
  // Signed-in targets: their keys, and the bearer token every request of theirs carries.
  const identityKeys = generateDevAuthKeys();
  const identityEnv = {
    JWT_SECRET: identityKeys.jwtSecret,
    JWT_ISSUER: DEV_ISSUER,
    JWT_AUDIENCE: DEV_AUDIENCE,
    INTERNAL_IDENTITY_PRIVATE_KEY: identityKeys.internalPrivateKey,
  };
  const signedIn = {
    authorization: `Bearer ${await mintDevToken({ secret: identityKeys.jwtSecret, user: 'usr_bench', expiresInSeconds: 86_400 })}`,
  };
  // Traced targets export their spans here (started with the first of them).
  let sink: Promise<OtlpReceiver> | undefined;
  const startSink = async () => {
    // Counts what arrives without decoding it: the benchmark measures the exporting side.
    const started = await startOtlpReceiver({ decode: false });
    cleanups.push(() => started.stop());
    return started;
  };
  const responsePath = join(tmp, 'standard.response.json');
  const launch = async (
    definition: TargetDefinition,
    workers: number,
    extraNodeOptions: readonly string[] = [],
  ): Promise<Instance> => {
    log(`  starting ${definition.id}@${workers}`);
    const otlp = definition.traced ? await (sink ??= startSink()) : undefined;
    const env: Record<string, string> =
      definition.kind === 'ours'
        ? {
            ...common,
            LOG_LEVEL: 'warn',
            GATEWAY_WORKERS: String(workers),
            ...(definition.signedIn ? identityEnv : {}),
            ...definition.env,
            ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } : {}),
          }
        : definition.kind === 'stock'
          ? { ...common, APOLLO_TELEMETRY_DISABLED: 'true', BENCH_WORKERS: String(workers) }
          : { RESPONSE_PATH: responsePath };
    const script = {
      ours: GATEWAY_BUNDLE,
      stock: 'bench/targets/stock-gateway.ts',
      ceiling: 'bench/targets/ceiling.ts',
    }[definition.kind];
    const nodeOptions = [...(definition.kind === 'ours' ? GATEWAY_NODE_OPTIONS : []), ...extraNodeOptions];
    const instance = await startInstance({
      definition,
      workers,
      script,
      nodeOptions,
      env,
      path: definition.kind === 'ours' ? '/graphql' : '/',
      cpus: gatewayCpus(pinning, workers),
      cwd: ROOT,
    });
    cleanups.push(() => instance.stop());
    return instance;
  };

  // Stock Apollo Gateway's answer is the reference: start it first (just for that if it is not measured).
  let stock: Instance | undefined = await launch(
    TARGETS.find((t) => t.id === 'stock')!,
    prepare.stockWorkers,
  );
  const received = await post(stock.url, body, {});
  const json = parseJson(received.text) as
    { data?: { users?: unknown[]; topProducts?: unknown[] }; errors?: unknown } | undefined;
  if (
    received.status !== 200 ||
    json?.errors !== undefined ||
    json?.data?.users?.length !== 6 ||
    json.data.topProducts?.length !== 5
  ) {
    throw new Error(
      `stock Apollo Gateway's answer is not the standard workload's (HTTP ${received.status}): ${received.text.slice(0, 500)}`,
    );
  }
  const reference = { text: received.text, json };
  await writeFile(responsePath, received.text);
  log(`  reference: stock Apollo Gateway's answer, ${Buffer.byteLength(received.text)} bytes`);
  if (!prepare.keepStock) {
    await stock.stop();
    stock = undefined;
  }

  return {
    context: {
      id: 'standard',
      body,
      reference,
      work: async () => Object.values(subgraphs.requests).reduce((a, b) => a + b, 0),
      workKind: 'fetches',
    },
    header: {
      id: 'standard',
      title: 'Standard workload (graphql-gateways-benchmark: accounts, inventory, products, reviews)',
      query: 'TestQuery (shared/workloads/federation-benchmark.md)',
      responseBytes: Buffer.byteLength(reference.text),
      reference: "stock Apollo Gateway's answer",
      baseline: 'stock',
    },
    async start(definition, workers, extraNodeOptions = []) {
      const reuse = definition.kind === 'stock' && stock?.workers === workers && extraNodeOptions.length === 0;
      const instance = reuse ? stock! : await launch(definition, workers, extraNodeOptions);
      if (reuse) stock = undefined;
      return newSubject(instance, () => (definition.signedIn ? signedIn : {}));
    },
    serviceLogs: () => undefined,
    async stop() {
      await stock?.stop();
      await subgraphs.stop();
      const otlp = sink && (await sink);
      if (otlp)
        log(
          `  OTLP sink: ${otlp.requests} export requests, ${(otlp.bytes / 1024 ** 2).toFixed(1)} MiB of spans received`,
        );
    },
  };
}

/** The commerce workload: the platform (subgraphs over embedded Postgres) in this process, its in-process gateway's answer as the reference. */
export async function prepareCommerce(pinning: Pinning, log: Log, redis: boolean): Promise<PreparedWorkload> {
  await buildOurs(log);
  log(`commerce workload: starting the platform (embedded Postgres${redis ? ', Redis' : ''})`);
  const workload = await startCommerceWorkload({ redis });
  cleanups.push(() => workload.stop());
  const mainAuthorization = await workload.authorization(workload.principal);
  // A token per principal (the gateway verifies each request's; a new principal per request misses the cache),
  // minted for the first target that needs them.
  let principals: Promise<string[]> | undefined;
  const mintPrincipals = () =>
    Promise.all(workload.principals(MISS_PRINCIPALS + 10_000).map((id) => workload.authorization(id)));
  // The check before load takes principals the load generator never uses.
  let nextCheck = MISS_PRINCIPALS;
  return {
    context: {
      id: 'commerce',
      body: JSON.stringify({ query: COMMERCE_QUERY }),
      reference: workload.reference,
      work: () => workload.statements(),
      workKind: 'statements',
    },
    header: {
      id: 'commerce',
      title: 'Commerce workload (deep query: 50 users → 10 orders each → items → product)',
      query: COMMERCE_QUERY.replace(/\s+/g, ' '),
      responseBytes: Buffer.byteLength(workload.reference.text),
      reference: "the platform's in-process gateway's answer (cache off)",
      baseline: 'commerce',
    },
    async start(definition, workers, extraNodeOptions = []) {
      log(`  starting ${definition.id}@${workers}`);
      const instance = await startInstance({
        definition,
        workers,
        script: GATEWAY_BUNDLE,
        nodeOptions: [...GATEWAY_NODE_OPTIONS, ...extraNodeOptions],
        env: {
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          SUBGRAPH_URLS: workload.subgraphUrls,
          GATEWAY_WORKERS: String(workers),
          ...(workload.redisUrl ? { REDIS_URL: workload.redisUrl } : {}),
          ...workload.gatewayEnv,
          ...definition.env,
        },
        path: '/graphql',
        cpus: gatewayCpus(pinning, workers),
        cwd: ROOT,
      });
      cleanups.push(() => instance.stop());
      if (definition.cache !== 'miss') return newSubject(instance, () => ({ authorization: mainAuthorization }));
      const all = await (principals ??= mintPrincipals());
      return newSubject(instance, () => ({ authorization: all[nextCheck++ % all.length]! }), {
        header: 'authorization',
        values: all.slice(0, MISS_PRINCIPALS),
        offset: 0,
      });
    },
    serviceLogs: () => ({ ...workload.logs, last: [...workload.logs.last] }),
    stop: () => workload.stop(),
  };
}

/** Starts and checks every planned target of a prepared workload, runs the rounds, stops everything it started. */
async function measureWorkload(
  prepared: PreparedWorkload,
  runs: ReadonlyArray<{ definition: TargetDefinition; workers: number }>,
  options: BenchOptions,
  pinning: Pinning,
  log: Log,
): Promise<WorkloadReport> {
  const subjects: Subject[] = [];
  for (const run of runs) {
    const subject = await prepared.start(run.definition, run.workers);
    await checkSubject(subject, prepared.context, log);
    subjects.push(subject);
  }
  await runRounds(subjects, prepared.context, options, log);
  for (const subject of subjects) await subject.instance.stop();
  await prepared.stop();
  const serviceLogs = prepared.serviceLogs();
  return {
    ...prepared.header,
    order: subjects.map((s) => s.instance.key),
    ...(serviceLogs ? { serviceLogs } : {}),
    rows: toRows(subjects, prepared.header.baseline, pinning),
  };
}

async function runStandard(options: BenchOptions, pinning: Pinning, tmp: string, log: Log): Promise<WorkloadReport> {
  const runs = plan('standard', options);
  const stockRun = runs.find((r) => r.definition.kind === 'stock');
  const prepared = await prepareStandard(pinning, tmp, log, {
    stockWorkers: stockRun?.workers ?? options.workers[0]!,
    keepStock: stockRun !== undefined,
  });
  return measureWorkload(prepared, runs, options, pinning, log);
}

async function runCommerce(options: BenchOptions, pinning: Pinning, log: Log): Promise<WorkloadReport> {
  const prepared = await prepareCommerce(pinning, log, options.redis);
  return measureWorkload(prepared, plan('commerce', options), options, pinning, log);
}

function notes(options: BenchOptions, workloads: readonly WorkloadReport[]): string[] {
  const list = [
    'Stock Apollo Gateway: `new ApolloGateway({ supergraphSdl })` + `new ApolloServer({ gateway })` + `startStandaloneServer` exactly as documented (bench/targets/stock-gateway.ts), listening on 127.0.0.1, with `APOLLO_TELEMETRY_DISABLED=true` so it does not phone home; at N > 1 workers, N such processes behind a node:cluster primary (it has no cluster mode).',
    `Every gateway runs with \`NODE_ENV=production\`; ours (\`node ${GATEWAY_NODE_OPTIONS.join(' ')} ${GATEWAY_BUNDLE}\`, the bundle \`npm run build:gateway\` makes of gateway/src, as \`npm run gateway\` runs it) with \`LOG_LEVEL=warn\`, \`GATEWAY_WORKERS=N\`, and \`RESPONSE_CACHE=false\` (uncached) or \`true\` (cached). Uncached = response cache off, no cross-request deduplication: every request pays for its own subgraph calls.`,
    'Standard workload subgraphs: a Node implementation of the published subgraphs (bench/workload/standard: the Federation v1 SDL verbatim, the same data, deterministic lorem-ipsum review bodies of the published lengths), one node:http server on loopback, `POST /<name>`, composed with @apollo/composition. They send `Cache-Control: public, max-age=300` (the published ones send none; without it no gateway may cache the response); no byte of data changes.',
    "req/s counts valid responses only: 2xx with the reference answer (the same bytes, or deep-equal JSON without `errors`; the load generator checks every body). req/s, p50 and p99 are means over rounds; p50/p99 are autocannon's latencies of all responses. errors = non-2xx + socket errors (timeouts included) + 2xx with another body, of all responses in the measured runs.",
    "CPU ms/resp: CPU time (user + system, /proc) of the target's processes (a cluster's primary and workers) during the measured run ÷ the responses it gave, mean over rounds; sampled every 250 ms and interpolated to the run's start and end. It moves much less than req/s when the load generator and the subgraphs (on the other CPU) or neighbours hold the target back: the target then idles, and idle time is not counted.",
    "Peak RSS: total = largest sampled sum of RSS over the target's Node processes (every 250 ms while loaded, warm-up included); max proc = largest peak RSS (VmHWM) of one process. workers (procs) = Node processes seen: a cluster primary + its workers, or 1.",
  ];
  if (workloads.some((w) => w.rows.some((r) => TARGETS.find((t) => t.id === r.target)?.traced))) {
    list.push(
      "Traced rows: our gateway with `OTEL_EXPORTER_OTLP_ENDPOINT` set to a node:http OTLP receiver in the harness process (test/helpers/otlp-receiver.ts, counting without decoding, answering 200): every request's spans (`@apollo/gateway`'s request/validate/plan/execute/fetch and ours per subgraph attempt) are recorded, batched and exported as OTLP/HTTP JSON, with the AsyncLocalStorage context manager on. The untraced rows run the same code with tracing off.",
    );
  }
  if (workloads.some((w) => w.id === 'commerce')) {
    list.push(
      'Commerce workload: the platform in the harness process (`startPlatform`, embedded Postgres: 2 shards × primary + streaming replica, copied from the test template), our gateway a child process routed with `SUBGRAPH_URLS`. Every request sends a bearer JWT with the `admin` scope (the query lists users and their private orders), verified by the gateway, which signs an internal identity for each subgraph fetch that the subgraph verifies. A user\'s orders carry a PRIVATE 10 s cache hint, so a cached entry expires every 10 s: "cache hits" is the share of responses with `x-cache: HIT`. SQL statements/op: `db_statements_total` over one request after the warm check (0 on a hit). The subgraphs and Postgres share the load generator\'s CPUs: with one such CPU, uncached commerce numbers are bounded by it, not by the gateway.' +
        (options.redis ? ' Response cache in Redis.' : ' Response cache in process.'),
    );
  }
  const rows = workloads.flatMap((w) => w.rows);
  const executors = new Set(
    rows.map((r) => TARGETS.find((t) => t.id === r.target)?.env.GATEWAY_EXECUTOR).filter((e) => e !== undefined),
  );
  if (executors.size > 0) {
    const inherited = process.env.GATEWAY_EXECUTOR;
    list.push(
      `Executors: rows without \`GATEWAY_EXECUTOR\` in their label run ${inherited ? `\`GATEWAY_EXECUTOR=${inherited}\` (inherited from the benchmark's environment)` : 'the default executor (`GATEWAY_EXECUTOR` unset: `compiled`, gateway/src/executor)'}; the \`${[...executors].join('`, `')}\` rows the same configuration with that executor (\`apollo\`: @apollo/gateway's own \`executeQueryPlan\`).`,
    );
  }
  if (rows.some((r) => r.versus))
    list.push(
      "vs: the row's req/s and p99 ÷ those of the target named, at the same worker count (ratios of the round means), then req/s ÷ req/s round by round (within a round the two ran back to back, so the spread of these shows the machine's noise).",
    );
  const ignored = rows.filter((r) => !r.workersHonoured);
  if (ignored.length)
    list.push(
      `Worker count not honoured (process count differs from the workers asked for): ${ignored.map((r) => `${r.key} ran ${r.processes} process${r.processes === 1 ? '' : 'es'}`).join(', ')}.`,
    );
  if (options.quick) list.push('Quick run: a smoke check of the harness, its numbers are not for comparison.');
  return list;
}

/**
 * Plans where the gateway under test and everything else run, and pins this process (the harness, the load
 * generator and the subgraphs it starts) to the load CPUs; no pinning when that fails.
 */
export function pinThisRun(
  options: Pick<BenchOptions, 'pin' | 'workers' | 'gatewayCpus' | 'loadCpus'>,
  log: Log,
): Pinning {
  const pinning = planPinning({
    pin: options.pin,
    workers: options.workers,
    gatewayCpus: options.gatewayCpus,
    loadCpus: options.loadCpus,
  });
  const reason = 'taskset could not pin this process';
  const result: Pinning =
    pinning.kind === 'pinned' && !pinSelf(pinning.load)
      ? { kind: 'none', reason, description: `none (${reason})` }
      : pinning;
  log(`CPU pinning: ${result.description}`);
  return result;
}

/** This machine and checkout, for a report. */
export function describeMachine(): Pick<BenchmarkReport, 'machine' | 'gitCommit'> {
  const cpu = osCpus()[0];
  return {
    machine: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpuModel: cpu?.model.trim() ?? 'unknown',
      cpus: cpuCount(),
      memoryGiB: totalmem() / 1024 ** 3,
    },
    gitCommit: gitCommit(),
  };
}

/** Runs the whole benchmark; stops everything it started, even on failure. */
export async function runBenchmark(options: BenchOptions, command: string, log: Log): Promise<BenchmarkReport> {
  const startedAt = new Date().toISOString();
  const pinning = pinThisRun(options, log);
  const tmp = await mkdtemp(join(tmpdir(), 'bench-'));
  const workloads: WorkloadReport[] = [];
  try {
    const selected = TARGETS.filter((t) => options.targets.includes(t.id));
    if (selected.some((t) => t.workload === 'standard')) workloads.push(await runStandard(options, pinning, tmp, log));
    if (selected.some((t) => t.workload === 'commerce')) workloads.push(await runCommerce(options, pinning, log));
  } finally {
    await stopEverything();
    await rm(tmp, { recursive: true, force: true });
  }
  return {
    version: 1,
    startedAt,
    quick: options.quick,
    command,
    ...describeMachine(),
    settings: {
      connections: options.connections,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      rounds: options.rounds,
      workers: options.workers,
      loadGenerator: LOAD_GENERATOR,
    },
    pinning: pinning.description,
    notes: notes(options, workloads),
    workloads,
    processes: startedProcesses().map(({ name, pid }) => ({ name, pid })),
  };
}
