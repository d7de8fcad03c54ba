import type { Logger } from '@commerce/common';
import type { BucketState, BudgetStore, LeasableBudgetStore } from './bucket';
import type { BudgetPolicy } from './config';

/** Options of {@link createLeasedBudgetStore}. */
export interface LeasedBudgetStoreOptions {
  /** The bucket every instance shares (Redis); leases are taken from it and unspent ones given back. */
  shared: LeasableBudgetStore;
  /** Points per lease as a share of the client's capacity (`COST_BUDGET_LEASE_PERCENT`). Default 1. */
  leasePercent?: number;
  /** An unspent lease goes back to the shared bucket after this long (`COST_BUDGET_LEASE_MS`). Default 1000. */
  leaseMs?: number;
  /** Leases held at once; past it, the oldest go back early. Default 100000. */
  maxClients?: number;
  /** Milliseconds clock. Default `Date.now`. */
  now?: () => number;
  logger: Logger;
}

interface Lease {
  /** Points taken from the shared bucket and not spent yet. */
  tokens: number;
  /** What the shared bucket held after the last lease (for the RateLimit header). */
  remote: number;
  expiresAt: number;
  policy: BudgetPolicy;
  /** A lease being taken: requests of the same client wait for it instead of asking again. */
  pending?: Promise<void>;
}

/**
 * Cost budgets spent locally from leases of the shared bucket: a client's
 * first operation on an instance takes a lease (`leasePercent` of its
 * capacity, or the cost if more) from the shared bucket with one atomic
 * Redis call, and every operation after it is charged in memory, no round
 * trip, until the lease is spent; refunds (actual below estimated cost) go
 * back into the lease. Nothing is spent that the shared bucket did not hand
 * out, so the instances together never let a client spend more than its
 * capacity plus refill. The price is admission: up to one lease per instance
 * may sit unspent in an instance the client stopped calling, until it
 * expires (`leaseMs`) and goes back to the shared bucket.
 */
export function createLeasedBudgetStore(options: LeasedBudgetStoreOptions): BudgetStore {
  const { shared, logger, now = Date.now } = options;
  const leasePercent = options.leasePercent ?? 1;
  const leaseMs = options.leaseMs ?? 1000;
  const maxClients = options.maxClients ?? 100_000;
  const leases = new Map<string, Lease>();

  function giveBack(client: string, lease: Lease): void {
    leases.delete(client);
    const points = Math.floor(lease.tokens);
    lease.tokens = 0;
    if (points <= 0) return;
    shared
      .refund(client, points, lease.policy)
      .catch((error: unknown) => logger.warn({ err: error }, 'cost budget: an unspent lease could not be given back'));
  }

  function sweep(): void {
    const at = now();
    for (const [client, lease] of leases) if (lease.expiresAt <= at && !lease.pending) giveBack(client, lease);
  }
  const sweeper = setInterval(sweep, leaseMs);
  sweeper.unref();

  function renew(client: string, lease: Lease, cost: number, policy: BudgetPolicy): Promise<void> {
    const wanted = Math.max(Math.ceil((policy.capacity * leasePercent) / 100), Math.ceil(cost - lease.tokens));
    lease.pending = shared.lease(client, wanted, policy).then(
      ({ taken, tokens }) => {
        lease.tokens += taken;
        lease.remote = tokens;
        lease.expiresAt = now() + leaseMs;
        lease.pending = undefined;
      },
      (error: unknown) => {
        lease.pending = undefined;
        throw error;
      },
    );
    return lease.pending;
  }

  function state(lease: Lease, allowed: boolean): BucketState {
    return { allowed, tokens: lease.tokens + lease.remote };
  }

  async function take(client: string, cost: number, policy: BudgetPolicy): Promise<BucketState> {
    let lease = leases.get(client);
    if (lease && (lease.policy !== policy || (lease.expiresAt <= now() && !lease.pending))) {
      giveBack(client, lease);
      lease = undefined;
    }
    if (!lease) {
      lease = { tokens: 0, remote: policy.capacity, expiresAt: 0, policy };
      leases.set(client, lease);
      if (leases.size > maxClients) {
        const [oldest, held] = leases.entries().next().value as [string, Lease];
        if (held !== lease) giveBack(oldest, held);
      }
    }
    // At most two rounds: wait for a lease another request of this client is taking, then take one if still short.
    for (let round = 0; lease.tokens < cost && round < 2; round++) {
      await (lease.pending ?? renew(client, lease, cost, policy));
    }
    if (lease.tokens < cost) return state(lease, false);
    lease.tokens -= cost;
    return state(lease, true);
  }

  return {
    take,
    async refund(client, points, policy) {
      const lease = leases.get(client);
      if (!lease || lease.policy !== policy) return shared.refund(client, points, policy);
      lease.tokens += points;
      return state(lease, true);
    },
    async close() {
      clearInterval(sweeper);
      const held = [...leases].filter(([, lease]) => lease.tokens >= 1);
      leases.clear();
      await Promise.all(
        held.map(([client, lease]) =>
          shared.refund(client, Math.floor(lease.tokens), lease.policy).catch(() => undefined),
        ),
      );
    },
  };
}
