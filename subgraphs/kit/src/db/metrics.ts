import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '@commerce/common';
import type { DbNode } from './node';

export type DbMetrics = ReturnType<typeof createDbMetrics>;

export function createDbMetrics(registry: Registry) {
  return {
    statements: new Counter({
      name: 'db_statements_total',
      help: 'SQL statements sent by request handling, by subgraph, shard and role (primary|replica)',
      labelNames: ['subgraph', 'shard', 'role'] as const,
      registers: [registry],
    }),
    statementDuration: new Histogram({
      name: 'db_statement_duration_seconds',
      help: 'Time from sending a SQL statement (waiting for a pooled connection included) to its result, by subgraph, shard and role',
      labelNames: ['subgraph', 'shard', 'role'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers: [registry],
    }),
    replicaFailures: new Counter({
      name: 'db_replica_failures_total',
      help: 'Reads that failed on a replica and were retried on the primary',
      labelNames: ['subgraph', 'shard', 'replica'] as const,
      registers: [registry],
    }),
    replicaHealthy: new Gauge({
      name: 'db_replica_healthy',
      help: '1 when the replica answered its last health check, else 0',
      labelNames: ['subgraph', 'shard', 'replica'] as const,
      registers: [registry],
    }),
    replicaLagSeconds: new Gauge({
      name: 'db_replica_lag_seconds',
      help: 'How long ago the primary was at the WAL position the replica has replayed (resolution: REPLICA_CHECK_INTERVAL_MS)',
      labelNames: ['subgraph', 'shard', 'replica'] as const,
      registers: [registry],
    }),
    replicaLagBytes: new Gauge({
      name: 'db_replica_lag_bytes',
      help: "WAL bytes between the primary's last seen position and the replica's replay position",
      labelNames: ['subgraph', 'shard', 'replica'] as const,
      registers: [registry],
    }),
    primaryHealthy: new Gauge({
      name: 'db_primary_healthy',
      help: '1 while the shard primary answers its health checks, else 0 (writes then fail fast with DATABASE_UNAVAILABLE)',
      labelNames: ['subgraph', 'shard'] as const,
      registers: [registry],
    }),
    unavailable: new Counter({
      name: 'db_unavailable_total',
      help: 'Statements refused with DATABASE_UNAVAILABLE, by kind (write|read)',
      labelNames: ['subgraph', 'shard', 'kind'] as const,
      registers: [registry],
    }),
    primaryFallbacks: new Counter({
      name: 'db_reads_on_primary_total',
      help: 'Reads sent to the primary, by reason: no_replica (none configured or healthy) or read_your_writes',
      labelNames: ['subgraph', 'shard', 'reason'] as const,
      registers: [registry],
    }),
  };
}

/** The pool of one Postgres server, as its gauges read it. */
type PooledNode = Pick<DbNode, 'shard' | 'role' | 'label' | 'pool'>;

/**
 * Pool usage per server, read from node-postgres when `/metrics` is scraped:
 * open connections, idle ones, and statements waiting for a free one.
 */
export function registerPoolGauges(registry: Registry, subgraph: string, nodes: readonly PooledNode[]): void {
  const gauges: Array<{ name: string; help: string; read: (pool: DbNode['pool']) => number }> = [
    {
      name: 'db_pool_connections',
      help: 'Open connections of the pool of one Postgres server (busy and idle)',
      read: (pool) => pool.totalCount,
    },
    {
      name: 'db_pool_idle_connections',
      help: 'Idle connections of the pool of one Postgres server',
      read: (pool) => pool.idleCount,
    },
    {
      name: 'db_pool_waiting_queries',
      help: 'Statements waiting for a free connection of the pool of one Postgres server',
      read: (pool) => pool.waitingCount,
    },
  ];
  for (const { name, help, read } of gauges) {
    new Gauge({
      name,
      help,
      labelNames: ['subgraph', 'shard', 'role', 'node'] as const,
      registers: [registry],
      collect() {
        for (const node of nodes)
          this.set({ subgraph, shard: String(node.shard), role: node.role, node: node.label }, read(node.pool));
      },
    });
  }
}
