import { CommerceError } from '@commerce/common';

/**
 * The shard's primary (or, for a read, every server that could answer it) is
 * unreachable. `retryable: true` tells clients the statement did not run, or
 * ran as a whole and is safe to repeat with the same idempotency key.
 * Raised as a field error inside a 200 response, so the gateway forwards it
 * as it is instead of counting the subgraph as failing.
 */
export function databaseUnavailable(shard: number, what: 'write' | 'read', cause?: unknown): CommerceError {
  const message =
    what === 'write'
      ? `The database of shard ${shard} cannot take writes right now; retry shortly`
      : `No database of shard ${shard} can serve this read right now; retry shortly`;
  return new CommerceError('DATABASE_UNAVAILABLE', message, { extensions: { retryable: true }, cause, status: 200 });
}
