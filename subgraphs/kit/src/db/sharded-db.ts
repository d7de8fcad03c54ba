import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Logger } from '@commerce/common';
import { bucketOf } from '../ids';
import type { ShardMap } from '../shard-map';
import type { LsnStore } from './lsn-store';
import { parseLsn } from './lsn';
import { createDbMetrics, type DbMetrics } from './metrics';
import { createNode, isServerFailure, type DbNode, type NodeOptions } from './node';

export interface ShardedDbOptions {
  shardMap: ShardMap;
  /** Label for metrics (`db_statements_total{subgraph}`). */
  subgraph: string;
  registry: Registry;
  lsnStore: LsnStore;
  logger: Logger;
  /** Connections per Postgres server. Default 10. */
  poolSize?: number;
  /** How often replicas are probed for health and replay position. Default 500 ms. */
  replicaCheckIntervalMs?: number;
  /** Server-side statement timeout. Default 5000 ms. */
  statementTimeoutMs?: number;
  /** Longest wait for a connection (new or from the busy pool). Default 10000 ms. */
  connectTimeoutMs?: number;
}

/** Runs statements; every statement is counted in `db_statements_total`. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

interface Shard {
  primary: DbNode;
  replicas: DbNode[];
  next: number;
}

/**
 * Routes statements to shards: writes to the primary, reads to a healthy
 * replica (round robin) unless the principal has a write on that shard the
 * replica has not replayed yet (read-your-writes) or no replica is healthy.
 */
export class ShardedDb {
  readonly shardCount: number;
  readonly metrics: DbMetrics;
  private readonly shards: Shard[];
  private readonly options: ShardedDbOptions;
  private checker: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(options: ShardedDbOptions) {
    this.options = options;
    this.metrics = createDbMetrics(options.registry);
    const nodeOptions: NodeOptions = {
      poolSize: options.poolSize ?? 10,
      statementTimeoutMs: options.statementTimeoutMs ?? 5000,
      // Also how long a query waits for a free pooled connection: under a burst it queues rather than fails.
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    this.shards = options.shardMap.shards.map((s) => ({
      primary: createNode(s.primary, 'primary', s.index, 'primary', nodeOptions, options.logger),
      replicas: s.replicas.map((url, j) => createNode(url, 'replica', s.index, String(j), nodeOptions, options.logger)),
      next: 0,
    }));
    this.shardCount = this.shards.length;
  }

  /** Probes replicas once, then keeps probing in the background. */
  async start(): Promise<void> {
    await this.checkReplicas();
    const interval = this.options.replicaCheckIntervalMs ?? 500;
    this.checker = setInterval(() => {
      this.checking ??= this.checkReplicas().finally(() => (this.checking = undefined));
    }, interval);
    this.checker.unref();
  }

  shardOfBucket(bucket: number): number {
    return this.options.shardMap.bucketToShard[bucket]!;
  }

  shardOf(id: bigint | string): number {
    return this.shardOfBucket(bucketOf(typeof id === 'bigint' ? id : BigInt(id)));
  }

  /** Groups keys by the shard their ID routes to. */
  groupByShard<K>(keys: readonly K[], idOf: (key: K) => bigint | string): Map<number, { key: K; index: number }[]> {
    const groups = new Map<number, { key: K; index: number }[]>();
    keys.forEach((key, index) => {
      const shard = this.shardOf(idOf(key));
      let group = groups.get(shard);
      if (!group) groups.set(shard, (group = []));
      group.push({ key, index });
    });
    return groups;
  }

  /** A read on one shard, for `principal` (read-your-writes) if given. */
  async read<R extends pg.QueryResultRow = pg.QueryResultRow>(shard: number, principal: string | undefined, text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    const target = this.shards[shard]!;
    const replica = await this.pickReplica(target, shard, principal);
    if (replica) {
      try {
        return await this.run<R>(replica.pool, replica, text, params);
      } catch (error) {
        if (!isServerFailure(error)) throw error;
        this.markDown(replica, error);
      }
    }
    return this.run<R>(target.primary.pool, target.primary, text, params);
  }

  /** The same read on every shard, in parallel; results in shard order. */
  readAll<R extends pg.QueryResultRow = pg.QueryResultRow>(principal: string | undefined, text: string, params: unknown[] = []): Promise<pg.QueryResult<R>[]> {
    return Promise.all(this.shards.map((_, shard) => this.read<R>(shard, principal, text, params)));
  }

  /**
   * A transaction on the shard's primary. After commit, the shard's WAL
   * position is recorded for the principal(s) so their next reads see the
   * write: `principals` is a consistency key, or a function of the result
   * (e.g. a new user becomes a principal of its own sign-up).
   */
  async transaction<T>(shard: number, principals: string | undefined | ((result: T) => (string | undefined)[]), fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const node = this.shards[shard]!.primary;
    const client = await node.pool.connect();
    const tx: Queryable = { query: (text, params) => this.run(client, node, text, params ?? []) };
    let broken: Error | undefined;
    try {
      await tx.query('BEGIN');
      let result: T;
      try {
        result = await fn(tx);
        await tx.query('COMMIT');
      } catch (error) {
        await tx.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
      const keys = (typeof principals === 'function' ? principals(result) : [principals]).filter((k): k is string => k !== undefined);
      if (keys.length) {
        const { rows } = await tx.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
        const lsn = parseLsn(rows[0]!.lsn);
        await Promise.all(keys.map((key) => this.options.lsnStore.record(key, shard, lsn))).catch((error: Error) =>
          this.options.logger.warn({ shard, err: error.message }, 'could not record read-your-writes position; reads may be stale'),
        );
      }
      return result;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.checker) clearInterval(this.checker);
    // A probe still connecting would otherwise outlive the pools.
    await this.checking;
    const pools = this.shards.flatMap((s) => [s.primary, ...s.replicas]).map((n) => n.pool);
    // pool.end() resolves before its sockets finish closing; a server stopping
    // right after may still fail them, which is expected now, not a fault.
    for (const pool of pools) pool.removeAllListeners('error').on('error', () => undefined);
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  }

  private async run<R extends pg.QueryResultRow>(runner: pg.Pool | pg.PoolClient, node: DbNode, text: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    this.metrics.statements.inc({ subgraph: this.options.subgraph, shard: String(node.shard), role: node.role });
    return runner.query<R>(text, params);
  }

  private async pickReplica(target: Shard, shard: number, principal: string | undefined): Promise<DbNode | undefined> {
    const healthy = target.replicas.filter((r) => r.healthy);
    const reason = (why: string) => this.metrics.primaryFallbacks.inc({ subgraph: this.options.subgraph, shard: String(shard), reason: why });
    if (healthy.length === 0) {
      reason('no_replica');
      return undefined;
    }
    let candidates = healthy;
    if (principal) {
      let required: bigint | undefined;
      try {
        required = await this.options.lsnStore.required(principal, shard);
      } catch (error) {
        // Without the store we cannot prove a replica is fresh enough for this principal.
        this.options.logger.warn({ shard, err: (error as Error).message }, 'read-your-writes store unavailable; reading from primary');
        reason('read_your_writes');
        return undefined;
      }
      if (required !== undefined) candidates = healthy.filter((r) => r.replayLsn >= required);
      if (candidates.length === 0) {
        reason('read_your_writes');
        return undefined;
      }
    }
    target.next = (target.next + 1) % candidates.length;
    return candidates[target.next];
  }

  private markDown(node: DbNode, error: unknown): void {
    const labels = { subgraph: this.options.subgraph, shard: String(node.shard), replica: node.label };
    this.metrics.replicaFailures.inc(labels);
    if (node.healthy) this.options.logger.warn({ ...labels, err: (error as Error).message }, 'replica failed; reading from the primary until it recovers');
    node.healthy = false;
    this.metrics.replicaHealthy.set(labels, 0);
  }

  private async checkReplicas(): Promise<void> {
    await Promise.all(
      this.shards.flatMap((s) => s.replicas).map(async (node) => {
        const labels = { subgraph: this.options.subgraph, shard: String(node.shard), replica: node.label };
        try {
          const { rows } = await node.pool.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
          const lsn = rows[0]?.lsn;
          if (!lsn) throw new Error('server is not a streaming replica (pg_last_wal_replay_lsn() is null)');
          node.replayLsn = parseLsn(lsn);
          if (!node.healthy) this.options.logger.info(labels, 'replica healthy');
          node.healthy = true;
          this.metrics.replicaHealthy.set(labels, 1);
        } catch (error) {
          if (node.healthy) this.options.logger.warn({ ...labels, err: (error as Error).message }, 'replica health check failed');
          node.healthy = false;
          this.metrics.replicaHealthy.set(labels, 0);
        }
      }),
    );
  }
}
