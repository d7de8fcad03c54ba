import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Counter, Gauge } from 'prom-client';

/**
 * Admission of operations to execution, adaptive to the gateway's own CPU.
 * While the event loop is saturated (its utilization over the last interval
 * at or above `saturation`), admitting more operations cannot raise
 * throughput: each one only holds its merged subgraph results longer, and
 * the garbage collector copies all of them again at every scavenge. So the
 * concurrency limit then shrinks (multiplicatively, to the operations in
 * flight × 0.9, never below `minConcurrency`) and the others wait in a FIFO
 * queue; while the loop has idle time (operations waiting on subgraphs, not
 * on the CPU) it grows back by a quarter per interval up to `maxConcurrency`.
 * A full queue, or a wait longer than `maxWaitMs`, is refused (503
 * SERVICE_UNAVAILABLE): load shedding instead of unbounded latency.
 */

/** Options of {@link AdmissionControl}. */
export interface AdmissionOptions {
  /** `GATEWAY_ADMISSION_MIN_CONCURRENCY`: the limit never goes below this. */
  minConcurrency: number;
  /** Upper bound of the limit (and its start). Default 4096. */
  maxConcurrency?: number;
  /** `GATEWAY_ADMISSION_MAX_QUEUE`: operations that may wait; one more is refused. */
  maxQueue: number;
  /** A queued operation admitted after waiting longer than this is refused instead (ms). */
  maxWaitMs: number;
  /** Event-loop utilization (0–1) taken as saturated. Default 0.9. */
  saturation?: number;
  /** How often the limit is adjusted (ms). Default 100. */
  intervalMs?: number;
  metrics?: AdmissionMetrics;
}

export interface AdmissionMetrics {
  limit: Gauge;
  inFlight: Gauge;
  queued: Gauge;
  rejected: Counter<'reason'>;
}

/** Why an operation was not admitted. */
export type AdmissionRefusal = 'queue_full' | 'queue_timeout';

/** Thrown by {@link AdmissionControl.admit}: answer 503. */
export class AdmissionRefused extends Error {
  constructor(readonly reason: AdmissionRefusal) {
    super(
      reason === 'queue_full'
        ? 'The gateway is at capacity: too many operations are waiting'
        : 'The gateway is at capacity: the operation waited too long to start',
    );
  }
}

interface Waiter {
  readonly since: number;
  readonly admit: () => void;
  readonly refuse: (error: AdmissionRefused) => void;
}

export class AdmissionControl {
  readonly #min: number;
  readonly #max: number;
  readonly #maxQueue: number;
  readonly #maxWaitMs: number;
  readonly #saturation: number;
  readonly #metrics: AdmissionMetrics | undefined;
  readonly #timer: NodeJS.Timeout;
  #limit: number;
  #inFlight = 0;
  #queue: Waiter[] = [];
  #head = 0;
  #last: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(options: AdmissionOptions) {
    this.#min = Math.max(1, options.minConcurrency);
    this.#max = Math.max(this.#min, options.maxConcurrency ?? 4096);
    this.#maxQueue = options.maxQueue;
    this.#maxWaitMs = options.maxWaitMs;
    this.#saturation = options.saturation ?? 0.9;
    this.#metrics = options.metrics;
    this.#limit = this.#max;
    this.#timer = setInterval(() => this.#adjust(), options.intervalMs ?? 100);
    this.#timer.unref();
    this.#report();
  }

  /** The current concurrency limit. */
  get limit(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Resolves when the operation may run, with the function to call when it is
   * done (exactly once); rejects with {@link AdmissionRefused}.
   */
  admit(): Promise<() => void> {
    if (this.#inFlight < this.#limit && this.queued === 0) {
      this.#inFlight++;
      this.#metrics?.inFlight.set(this.#inFlight);
      return Promise.resolve(this.#releaser());
    }
    if (this.queued >= this.#maxQueue) return Promise.reject(this.#refused('queue_full'));
    return new Promise((resolve, reject) => {
      this.#queue.push({
        since: performance.now(),
        admit: () => resolve(this.#releaser()),
        refuse: reject,
      });
      this.#metrics?.queued.set(this.queued);
    });
  }

  /** Stops adjusting; operations still queued are refused. */
  close(): void {
    clearInterval(this.#timer);
    while (this.queued > 0) this.#queue[this.#head++]!.refuse(new AdmissionRefused('queue_full'));
    this.#queue = [];
    this.#head = 0;
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      this.#drain();
    };
  }

  /** Admits queued operations while there is room. */
  #drain(): void {
    const now = performance.now();
    while (this.#inFlight < this.#limit && this.queued > 0) {
      const waiter = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Waiter;
      if (now - waiter.since > this.#maxWaitMs) {
        waiter.refuse(this.#refused('queue_timeout'));
        continue;
      }
      this.#inFlight++;
      waiter.admit();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#report();
  }

  #adjust(): void {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, this.#last);
    this.#last = now;
    if (utilization >= this.#saturation) {
      this.#limit = Math.max(this.#min, Math.floor(Math.min(this.#limit, this.#inFlight) * 0.9));
    } else if (this.#limit < this.#max) {
      this.#limit = Math.min(this.#max, this.#limit + Math.max(1, Math.ceil(this.#limit / 4)));
    }
    this.#drain();
  }

  #refused(reason: AdmissionRefusal): AdmissionRefused {
    this.#metrics?.rejected.inc({ reason });
    return new AdmissionRefused(reason);
  }

  #report(): void {
    if (!this.#metrics) return;
    this.#metrics.limit.set(this.#limit);
    this.#metrics.inFlight.set(this.#inFlight);
    this.#metrics.queued.set(this.queued);
  }
}
