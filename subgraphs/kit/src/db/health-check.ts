import type { Logger } from '@commerce/common';
import { parseLsn } from './lsn';
import type { DbMetrics } from './metrics';
import type { DbNode } from './node';
import type { PrimaryPositions } from './replica-lag';

/** The servers of one shard and what the health checks know of them. */
export interface ShardNodes {
  readonly index: number;
  readonly name: string;
  readonly primary: DbNode;
  readonly replicas: DbNode[];
  /** Round-robin cursor over the shard's replicas. */
  next: number;
  readonly positions: PrimaryPositions;
}

export interface HealthCheckOptions {
  subgraph: string;
  metrics: DbMetrics;
  logger: Logger;
  /** A replica serves reads only while its lag (see {@link PrimaryPositions}) is at most this. */
  replicaMaxLagMs: number;
}

/**
 * One round of health checks: each primary (reachable, not in recovery, its
 * WAL position), then each replica of its shard (reachable, replay position,
 * lag). A primary that answers takes writes again; a replica is admitted to
 * reads only within the lag bound, and leaves them when it falls behind it.
 */
export async function checkShards(shards: readonly ShardNodes[], options: HealthCheckOptions): Promise<void> {
  await Promise.all(
    shards.map(async (shard) => {
      await checkPrimary(shard, options);
      await Promise.all(shard.replicas.map((replica) => checkReplica(shard, replica, options)));
    }),
  );
}

async function checkPrimary(shard: ShardNodes, { subgraph, metrics, logger }: HealthCheckOptions): Promise<void> {
  const node = shard.primary;
  const labels = { subgraph, shard: String(node.shard) };
  try {
    const { rows } = await node.probe.query<{ lsn: string; recovery: boolean }>(
      'SELECT pg_current_wal_lsn()::text AS lsn, pg_is_in_recovery() AS recovery',
    );
    if (rows[0]?.recovery !== false) throw new Error('server is in recovery, not a primary');
    shard.positions.record(parseLsn(rows[0].lsn));
    if (!node.healthy) logger.info(labels, 'shard primary reachable again; writes resume');
    node.healthy = true;
  } catch (error) {
    markPrimaryDown(node, error, { subgraph, metrics, logger });
  }
  metrics.primaryHealthy.set(labels, node.healthy ? 1 : 0);
}

/** Writes to this primary fail fast with DATABASE_UNAVAILABLE until a health check reaches it again. */
export function markPrimaryDown(
  node: DbNode,
  error: unknown,
  { subgraph, metrics, logger }: Pick<HealthCheckOptions, 'subgraph' | 'metrics' | 'logger'>,
): void {
  const labels = { subgraph, shard: String(node.shard) };
  if (node.healthy)
    logger.warn(
      { ...labels, err: (error as Error).message },
      'shard primary unreachable; writes fail fast with DATABASE_UNAVAILABLE until it answers again',
    );
  node.healthy = false;
  metrics.primaryHealthy.set(labels, 0);
}

async function checkReplica(
  shard: ShardNodes,
  node: DbNode,
  { subgraph, metrics, logger, replicaMaxLagMs }: HealthCheckOptions,
): Promise<void> {
  const labels = { subgraph, shard: String(node.shard), replica: node.label };
  try {
    const { rows } = await node.probe.query<{ replay: string | null; receive: string | null }>(
      'SELECT pg_last_wal_replay_lsn()::text AS replay, pg_last_wal_receive_lsn()::text AS receive',
    );
    const replay = rows[0]?.replay;
    if (!replay) throw new Error('server is not a streaming replica (pg_last_wal_replay_lsn() is null)');
    node.replayLsn = parseLsn(replay);
    const receive = rows[0]?.receive ? parseLsn(rows[0].receive) : undefined;
    // Without a primary nothing newer can arrive: a replica that replayed all it received is as fresh as it can be.
    const settled = !shard.primary.healthy && (receive === undefined || node.replayLsn >= receive);
    const lag = settled ? { ms: 0, bytes: 0n } : shard.positions.lagOf(node.replayLsn);
    metrics.replicaLagSeconds.set(labels, lag.ms / 1000);
    metrics.replicaLagBytes.set(labels, Number(lag.bytes));
    const within = lag.ms <= replicaMaxLagMs;
    if (!node.healthy && within) logger.info({ ...labels, lagMs: lag.ms }, 'replica healthy; serving reads');
    if (node.healthy && !within)
      logger.warn(
        { ...labels, lagMs: lag.ms, maxLagMs: replicaMaxLagMs },
        'replica lags more than REPLICA_MAX_LAG_MS; reads go elsewhere until it catches up',
      );
    node.healthy = within;
  } catch (error) {
    if (node.healthy) logger.warn({ ...labels, err: (error as Error).message }, 'replica health check failed');
    node.healthy = false;
  }
  metrics.replicaHealthy.set(labels, node.healthy ? 1 : 0);
}
