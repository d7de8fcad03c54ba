import pg from 'pg';
import type { Logger } from '@commerce/common';
import { redactUrl } from '@commerce/common';

export type Role = 'primary' | 'replica';

export interface NodeOptions {
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** Longest a health probe may take (connect + query) before the node counts as down. */
  probeTimeoutMs: number;
}

/** One Postgres server of a shard, its connection pool and what the health checks last saw. */
export interface DbNode {
  readonly role: Role;
  readonly shard: number;
  /** Position in the shard's replica list ("0"…), or "primary". */
  readonly label: string;
  readonly pool: pg.Pool;
  /** One connection for health probes, so a busy `pool` never delays them. */
  readonly probe: pg.Pool;
  /** Primary: reachable, writes are tried. Replica: reachable and within the lag bound, reads go there. */
  healthy: boolean;
  /** Last replayed WAL position seen by the health check (replicas only). */
  replayLsn: bigint;
}

export function createNode(
  url: string,
  role: Role,
  shard: number,
  label: string,
  options: NodeOptions,
  logger: Logger,
): DbNode {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: `commerce-${role}`,
  });
  const probe = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: options.probeTimeoutMs,
    // A server that stopped answering (not one that closed its port) must not hold the probe.
    query_timeout: options.probeTimeoutMs,
    application_name: `commerce-${role}-probe`,
  });
  // An idle client losing its server must not crash the process.
  const onIdleError = (error: Error) =>
    logger.warn(
      { shard, role, node: label, url: redactUrl(url), err: error.message },
      'idle database connection failed',
    );
  pool.on('error', onIdleError);
  probe.on('error', () => undefined); // the next probe reports it
  return { role, shard, label, pool, probe, healthy: role === 'primary', replayLsn: 0n };
}

/**
 * A client checked out of the node's pool for a transaction, with an `error`
 * listener for the whole checkout: the pool listens only while a client is
 * idle, and a server that dies between two statements emits on the client.
 */
export async function checkout(
  node: DbNode,
  logger: Logger,
): Promise<{ client: pg.PoolClient; release(error?: Error): void }> {
  const client = await node.pool.connect();
  const onError = (error: Error) =>
    logger.warn(
      { shard: node.shard, role: node.role, node: node.label, err: error.message },
      'database connection in use failed',
    );
  client.on('error', onError);
  return {
    client,
    release(error) {
      client.removeListener('error', onError);
      client.release(error);
    },
  };
}

/**
 * True for errors that say the server (not the statement) is the problem:
 * connection failures, shutdowns, recovery conflicts. Reads failing this way
 * on a replica are retried on the primary.
 */
export function isServerFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return true;
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT…
  return code.startsWith('08') || code.startsWith('57P') || code.startsWith('53') || code === '40001';
}

/**
 * True for errors that say the connection to the server is gone or cannot be
 * made (not a busy or conflicting server): the node counts as down until a
 * probe reaches it again.
 */
export function isConnectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  // Waiting for a free client of a busy pool says nothing about the server.
  if ((error as Error)?.message === 'timeout exceeded when trying to connect') return false;
  if (typeof code !== 'string') return true; // "Connection terminated unexpectedly", connect timeouts
  return /^E[A-Z]+$/.test(code) || code.startsWith('08') || code.startsWith('57P');
}
