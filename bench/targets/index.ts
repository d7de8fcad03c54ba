/**
 * The targets the benchmark can measure. A target is one server process (or
 * a node:cluster primary with its workers) started on the same supergraph as
 * the others; the harness starts each, checks its answer, then loads them in
 * turn. To measure another configuration of our gateway, add an entry with
 * the environment that selects it.
 */

/** Which workload a target serves. */
export type WorkloadId = 'standard' | 'commerce';

/** How a target treats the response cache; decides how it is checked and loaded. */
export type CacheMode =
  /** No response cache: every request pays for its own subgraph calls. */
  | 'off'
  /** Response cache on, the same request (and principal) every time: every measured request is a hit. */
  | 'hit'
  /** Response cache on, a new principal on every request: every request is a miss and a store. */
  | 'miss';

export interface TargetDefinition {
  /** Used by `--targets`. */
  readonly id: string;
  readonly workload: WorkloadId;
  /** Row label in the report. */
  readonly label: string;
  /** `ours`: `gateway/src/index.ts`; `stock`: stock Apollo Gateway; `ceiling`: node:http returning the reference bytes. */
  readonly kind: 'ours' | 'stock' | 'ceiling';
  readonly cache: CacheMode;
  /** Environment of our gateway's process, on top of the harness's own (`GATEWAY_WORKERS`, `SUPERGRAPH_PATH`, …). */
  readonly env: Readonly<Record<string, string>>;
  /** Our gateway exports OpenTelemetry spans (`OTEL_EXPORTER_OTLP_ENDPOINT`) to a local OTLP sink the harness runs. Default false. */
  readonly traced?: boolean;
  /**
   * Standard workload: every request carries a bearer JWT (HS256) the gateway verifies, and the gateway signs an
   * Ed25519 internal identity for each subgraph fetch (README "Authentication"). Default false (anonymous, no key).
   */
  readonly signedIn?: boolean;
  /**
   * Id of another target of the same workload this one is compared with, row by row at the same worker count: the
   * report's "vs" column gives this row's req/s and p99 ÷ that target's, and the req/s ratio per round.
   */
  readonly versus?: string;
}

/** @apollo/gateway's own executor of query plans (`executeQueryPlan`) instead of our default one (README "Configuration"). */
const APOLLO_EXECUTOR = { GATEWAY_EXECUTOR: 'apollo' };

/** Cost limits off: the baseline of the enforce rows. */
const NO_COST = { COST_MODE: 'off' };
/** Cost estimated and charged, never refused (these rows' history predates COST_MODE=enforce by default). */
const MEASURE = { COST_MODE: 'measure' };
/**
 * Cost limits enforced as by default, with a maximum and a budget that fit
 * the workload: its query is estimated at about 24,000 points (no @listSize
 * in its SDL, so every list counts 10), over the default COST_MAX of 20,000;
 * and one client sends every request, so its budget must cover the whole load.
 */
const ENFORCE = {
  COST_MODE: 'enforce',
  COST_MAX: '1000000',
  COST_BUDGET_CAPACITY: '1000000000',
  COST_BUDGET_REFILL_PER_SECOND: '1000000000',
};

const DEFINITIONS: TargetDefinition[] = [
  {
    id: 'ours',
    workload: 'standard',
    label: 'our gateway, uncached (response cache off), cost limits off',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', ...NO_COST },
    versus: 'ours-apollo-executor',
  },
  {
    id: 'ours-apollo-executor',
    workload: 'standard',
    label: "our gateway, uncached, cost limits off, WITH @apollo/gateway's executor (GATEWAY_EXECUTOR=apollo)",
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', ...NO_COST, ...APOLLO_EXECUTOR },
  },
  {
    id: 'ours-identity',
    workload: 'standard',
    label:
      'our gateway, uncached, cost limits off, signed in: client JWT verified + internal identity signed per fetch',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', ...NO_COST },
    signedIn: true,
  },
  {
    id: 'ours-enforce',
    workload: 'standard',
    label: 'our gateway, uncached, cost limits enforced (COST_MODE=enforce)',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', ...ENFORCE },
  },
  {
    id: 'ours-dedup',
    workload: 'standard',
    label:
      'our gateway, uncached, WITH cross-request deduplication (identical subgraph queries in flight share one call)',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', SUBGRAPH_DEDUPLICATION: 'true', ...NO_COST },
  },
  {
    id: 'ours-traced',
    workload: 'standard',
    label: 'our gateway, uncached, WITH OpenTelemetry tracing on (every span exported over OTLP/HTTP to a local sink)',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', COST_MODE: 'off' },
    traced: true,
  },
  {
    id: 'ours-traced-10pct',
    workload: 'standard',
    label:
      'our gateway, uncached, WITH tracing on, 10% of traces sampled (OTEL_TRACES_SAMPLER=parentbased_traceidratio, ARG 0.1)',
    kind: 'ours',
    cache: 'off',
    env: {
      RESPONSE_CACHE: 'false',
      COST_MODE: 'off',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    },
    traced: true,
  },
  {
    id: 'ours-cached',
    workload: 'standard',
    label: 'our gateway, cached (every request a hit), cost limits off',
    kind: 'ours',
    cache: 'hit',
    env: { RESPONSE_CACHE: 'true', ...NO_COST },
  },
  {
    id: 'ours-cached-enforce',
    workload: 'standard',
    label: 'our gateway, cached (every request a hit), cost limits enforced: every hit charged from the leased budget',
    kind: 'ours',
    cache: 'hit',
    env: { RESPONSE_CACHE: 'true', ...ENFORCE },
  },
  {
    id: 'stock',
    workload: 'standard',
    label: 'stock Apollo Gateway (documented setup)',
    kind: 'stock',
    cache: 'off',
    env: {},
  },
  {
    id: 'ceiling',
    workload: 'standard',
    label: 'ceiling: bare node:http, same bytes',
    kind: 'ceiling',
    cache: 'off',
    env: {},
  },
  {
    id: 'commerce',
    workload: 'commerce',
    label: 'our gateway, uncached (response cache off)',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', ...MEASURE },
    versus: 'commerce-apollo-executor',
  },
  {
    id: 'commerce-apollo-executor',
    workload: 'commerce',
    label: "our gateway, uncached, WITH @apollo/gateway's executor (GATEWAY_EXECUTOR=apollo)",
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', ...MEASURE, ...APOLLO_EXECUTOR },
  },
  {
    id: 'commerce-cached',
    workload: 'commerce',
    label: 'our gateway, cached (same principal: every request a hit)',
    kind: 'ours',
    cache: 'hit',
    env: { RESPONSE_CACHE: 'true', ...MEASURE },
  },
  {
    id: 'commerce-miss',
    workload: 'commerce',
    label: 'our gateway, cache on, a new principal per request (every request a miss + store)',
    kind: 'ours',
    cache: 'miss',
    env: { RESPONSE_CACHE: 'true', ...MEASURE },
  },
];

export const TARGETS: readonly TargetDefinition[] = Object.freeze(
  DEFINITIONS.map((t) => Object.freeze({ ...t, env: Object.freeze({ ...t.env }) })),
);

export const TARGET_IDS: readonly string[] = TARGETS.map((t) => t.id);
