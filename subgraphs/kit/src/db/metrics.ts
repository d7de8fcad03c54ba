import { Counter, Gauge, type Registry } from 'prom-client';

export type DbMetrics = ReturnType<typeof createDbMetrics>;

export function createDbMetrics(registry: Registry) {
  return {
    statements: new Counter({
      name: 'db_statements_total',
      help: 'SQL statements sent by request handling, by subgraph, shard and role (primary|replica)',
      labelNames: ['subgraph', 'shard', 'role'] as const,
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
    primaryFallbacks: new Counter({
      name: 'db_reads_on_primary_total',
      help: 'Reads sent to the primary, by reason: no_replica (none configured or healthy) or read_your_writes',
      labelNames: ['subgraph', 'shard', 'reason'] as const,
      registers: [registry],
    }),
  };
}
