/** Options of {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries earned per 100 first attempts (`SUBGRAPH_RETRY_BUDGET_PERCENT`). Default 10. */
  percent?: number;
  /** Tokens at start and the most the budget holds (`SUBGRAPH_RETRY_BUDGET_BURST`). Default 10. */
  burst?: number;
}

/**
 * A token bucket of retries (Finagle's RetryBudget, gRPC's retry throttling):
 * every first attempt deposits `percent / 100` of a token, every retry
 * withdraws one. Under a subgraph that fails every call, retries therefore add
 * at most `percent`% to its load (plus the initial `burst`), so retries never
 * multiply an outage. cockatiel has no budget; this is the whole of it.
 */
export class RetryBudget {
  readonly #deposit: number;
  readonly #capacity: number;
  #tokens: number;

  constructor({ percent = 10, burst = 10 }: RetryBudgetOptions = {}) {
    this.#deposit = percent / 100;
    this.#capacity = Math.max(burst, 1);
    this.#tokens = burst;
  }

  /** A first attempt: earns a fraction of a retry. */
  deposit(): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + this.#deposit);
  }

  /** Takes one retry if the budget holds one. */
  withdraw(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
