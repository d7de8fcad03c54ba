import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  bulkhead,
  circuitBreaker,
  handleType,
  handleWhen,
  retry,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import { performance } from 'node:perf_hooks';
import { CommerceError, tracingEnabled, withSpan, type Logger } from '@commerce/common';
import type { Span } from '@opentelemetry/api';
import type { GatewayMetrics } from '../metrics';
import type { SubgraphPolicyConfig } from './config';
import { atPath, isRetryableFailure, isSubgraphFailure, subgraphError } from './errors';
import type { RetryBudget } from './retry-budget';

/** A circuit breaker's state as reported by `/ready/subgraphs` and logs. */
export type BreakerState = 'closed' | 'half_open' | 'open';

/** The value of `gateway_subgraph_breaker_state` for each state. */
const STATE_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** One call of a client request to the subgraph. */
export interface SubgraphCall {
  /** The call may be sent twice (the client's operation is a query). Mutations are never retried. */
  retryable: boolean;
  /** Epoch ms: no attempt starts after it and a running one is cut at it. */
  deadline: number;
  /** Where the call's fields sit in the response (the error's `path`); asked only on failure. */
  path(): readonly (string | number)[] | undefined;
}

/** Options of {@link SubgraphTraffic}. */
export interface SubgraphTrafficOptions {
  /** The subgraph's name, as in the supergraph. */
  name: string;
  /** Its timeout, concurrency, retry and breaker settings. */
  policy: SubgraphPolicyConfig;
  /** First retry delay (`SUBGRAPH_RETRY_BACKOFF_MS`); later ones grow exponentially with jitter, up to 8×. */
  retryBackoffMs: number;
  /** The subgraph's retry budget. */
  budget: RetryBudget;
  metrics: Pick<
    GatewayMetrics,
    | 'subgraphBreakerState'
    | 'subgraphRetries'
    | 'subgraphRetryBudgetExhausted'
    | 'subgraphRejected'
    | 'subgraphFetchDuration'
  >;
  logger: Logger;
}

/** Thrown inside the retry policy to ask for one more attempt, once a token was taken from the budget. */
class RetryRequested extends Error {
  constructor(readonly failure: unknown) {
    super('retry requested');
  }
}

/** The `outcome` of a failed attempt: the failure's reason (timeout, bad_status…), else `error`. */
function outcomeOf(error: unknown): string {
  const reason = error instanceof CommerceError ? (error.extensions as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' ? reason : 'error';
}

function breakerState(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  return state === CircuitState.HalfOpen ? 'half_open' : 'open';
}

/**
 * The traffic policies of one subgraph, built once and shared by every
 * request (cockatiel): retry (queries only, on connection failures and
 * 502/503/504, exponential backoff with jitter, within a retry budget) around
 * a bulkhead (concurrency limit with a queue bounded by the request deadline)
 * around a consecutive-failures circuit breaker that fails fast while open and
 * lets one probe through after `halfOpenAfterMs`.
 */
export class SubgraphTraffic {
  readonly name: string;
  readonly #options: SubgraphTrafficOptions;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #bulkhead: BulkheadPolicy;
  readonly #retry: RetryPolicy;
  #openedAt = 0;

  constructor(options: SubgraphTrafficOptions) {
    const { name, policy, retryBackoffMs, metrics, logger } = options;
    this.name = name;
    this.#options = options;
    this.#breaker = circuitBreaker(handleWhen(isSubgraphFailure), {
      halfOpenAfter: policy.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(policy.breakerFailures),
    });
    this.#bulkhead = bulkhead(policy.maxConcurrency, policy.maxQueue);
    this.#retry = retry(handleType(RetryRequested), {
      maxAttempts: policy.retries,
      backoff: new ExponentialBackoff({ initialDelay: retryBackoffMs, maxDelay: retryBackoffMs * 8 }),
    });
    const labels = { subgraph: name };
    metrics.subgraphBreakerState.set(labels, STATE_GAUGE.closed);
    this.#breaker.onStateChange((state) => metrics.subgraphBreakerState.set(labels, STATE_GAUGE[breakerState(state)]));
    this.#breaker.onBreak(() => {
      this.#openedAt = Date.now();
      const cause = this.#breaker.lastFailure;
      const err = cause && 'error' in cause ? ((cause.error as CommerceError).originalError ?? cause.error) : undefined;
      logger.warn(
        { subgraph: name, halfOpenAfterMs: policy.halfOpenAfterMs, err },
        'subgraph circuit opened: calls fail fast',
      );
    });
    this.#breaker.onHalfOpen(() => logger.info({ subgraph: name }, 'subgraph circuit half-open: probing'));
    this.#breaker.onReset(() => logger.info({ subgraph: name }, 'subgraph circuit closed: calls resume'));
    this.#retry.onRetry(() => metrics.subgraphRetries.inc(labels));
  }

  /** The breaker's state now. */
  get state(): BreakerState {
    return breakerState(this.#breaker.state);
  }

  /** False while the circuit is open and no probe is due yet: a call now would fail fast. */
  get available(): boolean {
    return (
      this.#breaker.state !== CircuitState.Open || Date.now() - this.#openedAt >= this.#options.policy.halfOpenAfterMs
    );
  }

  /** Runs `attempt` (one exchange with the subgraph) under the policies; failures become CommerceErrors at `call.path()`. */
  async execute<T>(call: SubgraphCall, attempt: () => Promise<T>): Promise<T> {
    const { budget, policy, metrics } = this.#options;
    const labels = { subgraph: this.name };
    budget.deposit();
    const once = async ({ attempt: retries }: { attempt: number }): Promise<T> => {
      if (Date.now() >= call.deadline) {
        metrics.subgraphRejected.inc({ ...labels, reason: 'deadline' });
        throw subgraphError(this.name, 'deadline');
      }
      try {
        return await this.#admit(() => this.#breaker.execute(() => this.#attempt(attempt, retries + 1)), call.deadline);
      } catch (error) {
        if (!call.retryable || retries >= policy.retries || !isRetryableFailure(error) || Date.now() >= call.deadline)
          throw error;
        if (!budget.withdraw()) {
          metrics.subgraphRetryBudgetExhausted.inc(labels);
          throw error;
        }
        throw new RetryRequested(error);
      }
    };
    try {
      return await this.#retry.execute(once);
    } catch (error) {
      throw this.#failure(error instanceof RetryRequested ? error.failure : error, call);
    }
  }

  /**
   * One exchange with the subgraph, timed in `gateway_subgraph_fetch_duration_seconds`
   * by outcome and, when tracing is on, in a client span (subgraph, attempt, outcome)
   * that is active while the fetcher runs, so the request carries its `traceparent`.
   */
  #attempt<T>(attempt: () => Promise<T>, number: number): Promise<T> {
    const { subgraphFetchDuration } = this.#options.metrics;
    const run = async (span: Span | undefined): Promise<T> => {
      const started = performance.now();
      let outcome = 'ok';
      try {
        return await attempt();
      } catch (error) {
        outcome = outcomeOf(error);
        throw error;
      } finally {
        span?.setAttribute('commerce.outcome', outcome);
        subgraphFetchDuration.observe({ subgraph: this.name, outcome }, (performance.now() - started) / 1000);
      }
    };
    if (!tracingEnabled()) return run(undefined);
    return withSpan(
      'gateway',
      `subgraph ${this.name}`,
      { 'commerce.subgraph': this.name, 'commerce.attempt': number },
      run,
    );
  }

  /** Takes a bulkhead slot; a call that has to queue gives up its place at the deadline. */
  #admit<T>(fn: () => Promise<T>, deadline: number): Promise<T> {
    if (this.#bulkhead.executionSlots > 0) return this.#bulkhead.execute(fn);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => {
          controller.abort();
          reject(new TaskCancelledError('deadline passed in the queue'));
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    return Promise.race([this.#bulkhead.execute(fn, controller.signal), expired]).finally(() => clearTimeout(timer));
  }

  #failure(error: unknown, call: SubgraphCall): unknown {
    const { metrics } = this.#options;
    let failure = error;
    if (error instanceof BrokenCircuitError) {
      metrics.subgraphRejected.inc({ subgraph: this.name, reason: 'circuit_open' });
      failure = subgraphError(this.name, 'circuit_open', { cause: error });
    } else if (error instanceof BulkheadRejectedError) {
      metrics.subgraphRejected.inc({ subgraph: this.name, reason: 'concurrency_limit' });
      failure = subgraphError(this.name, 'concurrency_limit', { cause: error });
    } else if (error instanceof TaskCancelledError) {
      metrics.subgraphRejected.inc({ subgraph: this.name, reason: 'deadline' });
      failure = subgraphError(this.name, 'deadline', { cause: error });
    }
    const path = failure instanceof CommerceError ? call.path() : undefined;
    return path && failure instanceof CommerceError ? atPath(failure, path) : failure;
  }
}
