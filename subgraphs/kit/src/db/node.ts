import pg from 'pg';
import type { Logger } from '@commerce/common';
import { redactUrl } from '@commerce/common';

export type Role = 'primary' | 'replica';

export interface NodeOptions {
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

/** One Postgres server of a shard and its connection pool. */
export interface DbNode {
  readonly role: Role;
  readonly shard: number;
  /** Position in the shard's replica list ("0"…), or "primary". */
  readonly label: string;
  readonly pool: pg.Pool;
  healthy: boolean;
  /** Last replayed WAL position seen by the health check (replicas only). */
  replayLsn: bigint;
}

export function createNode(url: string, role: Role, shard: number, label: string, options: NodeOptions, logger: Logger): DbNode {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: `commerce-${role}`,
  });
  // An idle client losing its server must not crash the process.
  pool.on('error', (error) => logger.warn({ shard, role, node: label, url: redactUrl(url), err: error.message }, 'idle database connection failed'));
  return { role, shard, label, pool, healthy: role === 'primary', replayLsn: 0n };
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
