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
}

const DEFINITIONS: TargetDefinition[] = [
  { id: 'ours', workload: 'standard', label: 'our gateway, uncached (response cache off)', kind: 'ours', cache: 'off', env: { RESPONSE_CACHE: 'false' } },
  {
    id: 'ours-dedup',
    workload: 'standard',
    label: 'our gateway, uncached, WITH cross-request deduplication (identical subgraph queries in flight share one call)',
    kind: 'ours',
    cache: 'off',
    env: { RESPONSE_CACHE: 'false', SUBGRAPH_DEDUPLICATION: 'true' },
  },
  { id: 'ours-cached', workload: 'standard', label: 'our gateway, cached (every request a hit)', kind: 'ours', cache: 'hit', env: { RESPONSE_CACHE: 'true' } },
  { id: 'stock', workload: 'standard', label: 'stock Apollo Gateway (documented setup)', kind: 'stock', cache: 'off', env: {} },
  { id: 'ceiling', workload: 'standard', label: 'ceiling: bare node:http, same bytes', kind: 'ceiling', cache: 'off', env: {} },
  { id: 'commerce', workload: 'commerce', label: 'our gateway, uncached (response cache off)', kind: 'ours', cache: 'off', env: { RESPONSE_CACHE: 'false' } },
  { id: 'commerce-cached', workload: 'commerce', label: 'our gateway, cached (same principal: every request a hit)', kind: 'ours', cache: 'hit', env: { RESPONSE_CACHE: 'true' } },
  { id: 'commerce-miss', workload: 'commerce', label: 'our gateway, cache on, a new principal per request (every request a miss + store)', kind: 'ours', cache: 'miss', env: { RESPONSE_CACHE: 'true' } },
];

export const TARGETS: readonly TargetDefinition[] = Object.freeze(DEFINITIONS.map((t) => Object.freeze({ ...t, env: Object.freeze({ ...t.env }) })));

export const TARGET_IDS: readonly string[] = TARGETS.map((t) => t.id);
