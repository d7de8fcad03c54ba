import { Counter, Gauge, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, createServiceMetrics, type ServiceMetrics } from '@commerce/common';

/** Outcome of one subgraph fetch, the `result` label of `gateway_subgraph_requests_total`. */
export type SubgraphResult = 'ok' | 'graphql_error' | 'http_error' | 'invalid_response' | 'timeout' | 'unavailable';

/** The gateway's Prometheus series, on its own registry (served at `/metrics`). */
export interface GatewayMetrics extends ServiceMetrics {
  /** One per HTTP exchange with a subgraph. */
  subgraphRequests: Counter<'subgraph' | 'result'>;
  /** Supergraph changes seen after the first load; `result` is success or failure. */
  supergraphReloads: Counter<'result'>;
  /** 1 if the latest supergraph load or reload succeeded, else 0. */
  supergraphLastReloadSuccess: Gauge;
  /** Always 1, labelled with the sha256 of the supergraph being served. */
  supergraphInfo: Gauge<'hash'>;
  /** GraphQL operations by type (query, mutation, unknown…) and result (ok, error). */
  operations: Counter<'type' | 'result'>;
  /** Query plan cache lookups by result (hit, miss): a miss means the request paid for planning. */
  planCache: Counter<'result'>;
  /** Admission control (README "Admission control"): the concurrency limit, operations running and waiting, refusals. */
  admissionLimit: Gauge;
  admissionInFlight: Gauge;
  admissionQueued: Gauge;
  admissionRejected: Counter<'reason'>;
  /** `GATEWAY_EXECUTOR=verify`: answers on which the compiled and Apollo's executors differed. */
  executorMismatches: Counter;
  /** Requests checked against the trusted-document manifest: known, unknown (allowed), rejected. */
  trustedDocuments: Counter<'result'>;
  /** Manifest operations that do not validate against the current supergraph. */
  trustedDocumentsInvalid: Gauge;
  /** Seconds the last plan warm-up of the manifest operations took. */
  planWarmupSeconds: Gauge;
  /** Response cache lookups by result: hit, miss, bypass. */
  responseCache: Counter<'result'>;
  /** Cached responses dropped by entity-tag invalidation (`source`: mutation or purge). */
  responseCacheInvalidations: Counter<'source'>;
  /** Response cache store failures (Redis down…) by operation: read, write, invalidate. */
  responseCacheErrors: Counter<'operation'>;
  /** Circuit breaker state per subgraph: 0 closed, 1 half-open, 2 open. */
  subgraphBreakerState: Gauge<'subgraph'>;
  /** Retries of subgraph queries (each is also one more `gateway_subgraph_requests_total`). */
  subgraphRetries: Counter<'subgraph'>;
  /** Retries wanted but refused because the subgraph's retry budget was empty. */
  subgraphRetryBudgetExhausted: Counter<'subgraph'>;
  /** Subgraph calls the gateway refused to make, by reason: circuit_open, concurrency_limit, deadline. */
  subgraphRejected: Counter<'subgraph' | 'reason'>;
  /** Duration of each attempt of a subgraph call that reached the subgraph, by outcome (ok or the failure's reason). */
  subgraphFetchDuration: Histogram<'subgraph' | 'outcome'>;
}

export function createGatewayMetrics(): GatewayMetrics {
  const base = createServiceMetrics('gateway');
  const registers = [base.registry];
  return {
    ...base,
    subgraphRequests: new Counter({
      name: 'gateway_subgraph_requests_total',
      help: 'HTTP requests from the gateway to subgraphs, by subgraph and result',
      labelNames: ['subgraph', 'result'] as const,
      registers,
    }),
    supergraphReloads: new Counter({
      name: 'gateway_supergraph_reloads_total',
      help: 'Supergraph reloads after the first load, by result (success, failure)',
      labelNames: ['result'] as const,
      registers,
    }),
    supergraphLastReloadSuccess: new Gauge({
      name: 'gateway_supergraph_last_reload_success',
      help: '1 if the latest supergraph load succeeded, 0 if it failed and the previous one is still served',
      registers,
    }),
    supergraphInfo: new Gauge({
      name: 'gateway_supergraph_info',
      help: 'The supergraph being served (sha256 of its SDL in the hash label); always 1',
      labelNames: ['hash'] as const,
      registers,
    }),
    admissionLimit: new Gauge({
      name: 'gateway_admission_limit',
      help: 'Operations the gateway lets run at once (shrinks while its event loop is saturated)',
      registers,
    }),
    admissionInFlight: new Gauge({ name: 'gateway_admission_in_flight', help: 'Operations running', registers }),
    admissionQueued: new Gauge({ name: 'gateway_admission_queued', help: 'Operations waiting to run', registers }),
    admissionRejected: new Counter({
      name: 'gateway_admission_rejected_total',
      help: 'Operations refused with 503 by admission control, by reason (queue_full, queue_timeout)',
      labelNames: ['reason'] as const,
      registers,
    }),
    executorMismatches: new Counter({
      name: 'gateway_executor_mismatches_total',
      help: 'GATEWAY_EXECUTOR=verify: answers on which the compiled executor and @apollo/gateway differed',
      registers,
    }),
    planCache: new Counter({
      name: 'gateway_query_plan_cache_total',
      help: 'Query plan cache lookups by result (hit, miss); a miss means the request paid for planning',
      labelNames: ['result'] as const,
      registers,
    }),
    trustedDocuments: new Counter({
      name: 'gateway_trusted_documents_total',
      help: 'Requests checked against the trusted-document manifest, by result (known, unknown, rejected)',
      labelNames: ['result'] as const,
      registers,
    }),
    trustedDocumentsInvalid: new Gauge({
      name: 'gateway_trusted_documents_invalid',
      help: 'Manifest operations that do not validate against the current supergraph',
      registers,
    }),
    planWarmupSeconds: new Gauge({
      name: 'gateway_plan_warmup_seconds',
      help: 'Duration of the last query-plan warm-up of the manifest operations',
      registers,
    }),
    responseCache: new Counter({
      name: 'gateway_response_cache_total',
      help: 'Response cache lookups by result (hit, miss, bypass)',
      labelNames: ['result'] as const,
      registers,
    }),
    responseCacheInvalidations: new Counter({
      name: 'gateway_response_cache_invalidations_total',
      help: 'Cached responses dropped because an entity they contain changed (source: mutation, purge)',
      labelNames: ['source'] as const,
      registers,
    }),
    responseCacheErrors: new Counter({
      name: 'gateway_response_cache_errors_total',
      help: 'Response cache store failures (requests are then served uncached), by operation',
      labelNames: ['operation'] as const,
      registers,
    }),
    subgraphBreakerState: new Gauge({
      name: 'gateway_subgraph_breaker_state',
      help: 'Circuit breaker state per subgraph: 0 closed, 1 half-open (probing), 2 open (calls refused)',
      labelNames: ['subgraph'] as const,
      registers,
    }),
    subgraphRetries: new Counter({
      name: 'gateway_subgraph_retries_total',
      help: 'Retries of subgraph queries after a connection failure or HTTP 502/503/504',
      labelNames: ['subgraph'] as const,
      registers,
    }),
    subgraphRetryBudgetExhausted: new Counter({
      name: 'gateway_subgraph_retry_budget_exhausted_total',
      help: 'Retries refused because the subgraph retry budget (SUBGRAPH_RETRY_BUDGET_PERCENT) was empty',
      labelNames: ['subgraph'] as const,
      registers,
    }),
    subgraphRejected: new Counter({
      name: 'gateway_subgraph_rejected_total',
      help: 'Subgraph calls refused without reaching the subgraph, by reason (circuit_open, concurrency_limit, deadline)',
      labelNames: ['subgraph', 'reason'] as const,
      registers,
    }),
    subgraphFetchDuration: new Histogram({
      name: 'gateway_subgraph_fetch_duration_seconds',
      help: 'Duration of each attempt of a subgraph call (response body included), by subgraph and outcome (ok, or why it failed: connection_failed, timeout, deadline, bad_status, invalid_response)',
      labelNames: ['subgraph', 'outcome'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    operations: new Counter({
      name: 'gateway_operations_total',
      help: 'GraphQL operations, by operation type and result (ok, error)',
      labelNames: ['type', 'result'] as const,
      registers,
    }),
  };
}
