import type pg from 'pg';
import type { Registry } from 'prom-client';
import { tracingEnabled, withSpan, type Logger } from '@commerce/common';
import { performance } from 'node:perf_hooks';
import { bucketOf } from '../ids';
import type { ShardMap } from '../shard-map';
import type { LsnStore } from './lsn-store';
import { checkShards, markPrimaryDown, type ShardNodes } from './health-check';
import { parseLsn } from './lsn';
import { createDbMetrics, registerPoolGauges, type DbMetrics } from './metrics';
import { checkout, createNode, isConnectionLost, isServerFailure, type DbNode, type NodeOptions } from './node';
import { PrimaryPositions } from './replica-lag';
import { databaseUnavailable } from './unavailable';

export interface ShardedDbOptions {
  shardMap: ShardMap;
  /** Label for metrics (`db_statements_total{subgraph}`). */
  subgraph: string;
  registry: Registry;
  lsnStore: LsnStore;
  logger: Logger;
  /** Connections per Postgres server. Default 10. */
  poolSize?: number;
  /** How often primaries and replicas are probed for health and WAL positions. Default 500 ms. */
  replicaCheckIntervalMs?: number;
  /** A replica serves reads only while its replay lag is at most this. Default 5000 ms. */
  replicaMaxLagMs?: number;
  /** Longest a health probe may take before its server counts as down. Default 2000 ms. */
  probeTimeoutMs?: number;
  /** Server-side statement timeout. Default 5000 ms. */
  statementTimeoutMs?: number;
  /** Longest wait for a connection (new or from the busy pool). Default 10000 ms. */
  connectTimeoutMs?: number;
}

/** The statement's first keyword (SELECT, INSERT, BEGIN…), the span's name and `db.operation.name`. */
function operationOf(text: string): string {
  return /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
}

/** Longest statement text put in a span. */
const MAX_STATEMENT_TEXT = 1000;

function statementAttributes(node: DbNode, text: string) {
  return {
    'db.system': 'postgresql',
    'db.system.name': 'postgresql',
    'db.operation.name': operationOf(text),
    'db.statement': text.length > MAX_STATEMENT_TEXT ? `${text.slice(0, MAX_STATEMENT_TEXT)}…` : text,
    'commerce.db.shard': node.shard,
    'commerce.db.role': node.role,
    'commerce.db.node': node.label,
  };
}

/** Runs statements; every statement is counted in `db_statements_total`. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** What `/ready` reports: ready while every shard's primary answers. */
// A type, not an interface, so that it fits `/ready`'s open record of details.
export type DbReadiness = {
  ready: boolean;
  /** Names of the shards whose primary is unreachable. */
  unreachablePrimaries: string[];
};

/**
 * Routes statements to shards: writes to the primary, reads to a healthy
 * replica (round robin) unless the consistency key has a write on that shard the
 * replica has not replayed yet (read-your-writes) or no replica is healthy.
 *
 * Survives its servers: while a primary is down (a health check or a
 * statement lost its connection) writes fail at once with the retryable
 * DATABASE_UNAVAILABLE and reads keep going to replicas; the next health
 * check that reaches it resumes writes.
 */
export class ShardedDb {
  readonly shardCount: number;
  readonly metrics: DbMetrics;
  private readonly shards: ShardNodes[];
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
      probeTimeoutMs: options.probeTimeoutMs ?? 2000,
    };
    // Enough primary positions to tell a lag over the bound from one just under it.
    const keepMs = 2 * (options.replicaMaxLagMs ?? 5000) + 10 * (options.replicaCheckIntervalMs ?? 500);
    this.shards = options.shardMap.shards.map((s) => ({
      index: s.index,
      name: s.name,
      primary: createNode(s.primary, 'primary', s.index, 'primary', nodeOptions, options.logger),
      replicas: s.replicas.map((url, j) => createNode(url, 'replica', s.index, String(j), nodeOptions, options.logger)),
      next: 0,
      positions: new PrimaryPositions(keepMs),
    }));
    this.shardCount = this.shards.length;
    registerPoolGauges(
      options.registry,
      options.subgraph,
      this.shards.flatMap((s) => [s.primary, ...s.replicas]),
    );
  }

  /** Probes every server once, then keeps probing in the background. */
  async start(): Promise<void> {
    await this.check();
    const interval = this.options.replicaCheckIntervalMs ?? 500;
    this.checker = setInterval(() => {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    }, interval);
    this.checker.unref();
  }

  /** Ready while the primary of every shard answers its health checks. */
  readiness(): DbReadiness {
    const unreachablePrimaries = this.shards.filter((s) => !s.primary.healthy).map((s) => s.name);
    return { ready: unreachablePrimaries.length === 0, unreachablePrimaries };
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

  /**
   * A read on one shard, for `consistencyKey` (read-your-writes) if given: on a
   * replica fresh enough for that key, else on the primary; while the
   * primary is down and no replica qualifies, DATABASE_UNAVAILABLE.
   */
  async read<R extends pg.QueryResultRow = pg.QueryResultRow>(
    shard: number,
    consistencyKey: string | undefined,
    text: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    const target = this.shards[shard]!;
    // Each failing replica is marked down, so this tries each at most once.
    for (
      let replica = await this.pickReplica(target, consistencyKey);
      replica;
      replica = await this.pickReplica(target, consistencyKey)
    ) {
      try {
        return await this.run<R>(replica.pool, replica, text, params);
      } catch (error) {
        if (!isServerFailure(error)) throw error;
        this.markReplicaDown(replica, error);
      }
    }
    const primary = target.primary;
    if (!primary.healthy) throw this.unavailable(primary, 'read');
    try {
      return await this.run<R>(primary.pool, primary, text, params);
    } catch (error) {
      throw this.primaryFailed(primary, 'read', error);
    }
  }

  /** The same read on every shard, in parallel; results in shard order. */
  readAll<R extends pg.QueryResultRow = pg.QueryResultRow>(
    consistencyKey: string | undefined,
    text: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>[]> {
    return Promise.all(this.shards.map((_, shard) => this.read<R>(shard, consistencyKey, text, params)));
  }

  /**
   * A transaction on the shard's primary. After commit, the shard's WAL
   * position is recorded for the consistency key(s) so their next reads see the
   * write: `consistencyKeys` is one key, or a function of the result
   * (e.g. a new user gets a consistency key of its own at sign-up).
   */
  async transaction<T>(
    shard: number,
    consistencyKeys: string | undefined | ((result: T) => (string | undefined)[]),
    fn: (tx: Queryable) => Promise<T>,
  ): Promise<T> {
    const node = this.shards[shard]!.primary;
    if (!node.healthy) throw this.unavailable(node, 'write');
    let checkedOut: Awaited<ReturnType<typeof checkout>>;
    try {
      checkedOut = await checkout(node, this.options.logger);
    } catch (error) {
      throw this.primaryFailed(node, 'write', error);
    }
    const { client } = checkedOut;
    // Errors of the database, as opposed to errors `fn` raises on purpose.
    const fromDatabase = new WeakSet<object>();
    const tx: Queryable = {
      query: <R extends pg.QueryResultRow>(text: string, params?: unknown[]) =>
        this.run<R>(client, node, text, params ?? []).catch((error: unknown) => {
          if (error && typeof error === 'object') fromDatabase.add(error);
          throw error;
        }),
    };
    let broken: Error | undefined;
    try {
      let result: T;
      try {
        await tx.query('BEGIN');
        result = await fn(tx);
        // A COMMIT that fails by a lost connection may or may not have happened. Writes are
        // made safe to repeat (placeOrder by its idempotency key; updates set values), so
        // the DATABASE_UNAVAILABLE it becomes says retryable.
        await tx.query('COMMIT');
      } catch (error) {
        await tx.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw fromDatabase.has(error as object) ? this.primaryFailed(node, 'write', error) : error;
      }
      await this.recordPosition(tx, shard, consistencyKeys, result);
      return result;
    } finally {
      checkedOut.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.checker) clearInterval(this.checker);
    // A probe still connecting would otherwise outlive the pools.
    await this.checking;
    const pools = this.shards.flatMap((s) => [s.primary, ...s.replicas]).flatMap((n) => [n.pool, n.probe]);
    // pool.end() resolves before its sockets finish closing; a server stopping
    // right after may still fail them, which is expected now, not a fault.
    for (const pool of pools) pool.removeAllListeners('error').on('error', () => undefined);
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  }

  /**
   * Sends one statement: counted, timed (`db_statement_duration_seconds`) and,
   * when tracing is on, a client span naming the shard and role with the
   * statement's text (placeholders only: parameter values never go in a span).
   */
  private async run<R extends pg.QueryResultRow>(
    runner: pg.Pool | pg.PoolClient,
    node: DbNode,
    text: string,
    params: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const labels = { subgraph: this.options.subgraph, shard: String(node.shard), role: node.role };
    this.metrics.statements.inc(labels);
    const started = performance.now();
    const query = () => runner.query<R>(text, params);
    try {
      // Tested first so that with tracing off not even the span's name and attributes are built.
      if (!tracingEnabled()) return await query();
      return await withSpan(
        this.options.subgraph,
        `${operationOf(text)} shard${node.shard} ${node.role}`,
        statementAttributes(node, text),
        query,
      );
    } finally {
      this.metrics.statementDuration.observe(labels, (performance.now() - started) / 1000);
    }
  }

  /**
   * After commit, records the shard's WAL position for the consistency key(s) so their next reads
   * see the write. The write is committed by now: a failure here is logged, not raised.
   */
  private async recordPosition<T>(
    tx: Queryable,
    shard: number,
    consistencyKeys: string | undefined | ((result: T) => (string | undefined)[]),
    result: T,
  ): Promise<void> {
    const keys = (typeof consistencyKeys === 'function' ? consistencyKeys(result) : [consistencyKeys]).filter(
      (k): k is string => k !== undefined,
    );
    if (!keys.length) return;
    try {
      const { rows } = await tx.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      const lsn = parseLsn(rows[0]!.lsn);
      await Promise.all(keys.map((key) => this.options.lsnStore.record(key, shard, lsn)));
    } catch (error) {
      this.options.logger.warn(
        { shard, err: (error as Error).message },
        'could not record read-your-writes position; reads may be stale',
      );
    }
  }

  /** DATABASE_UNAVAILABLE for a statement refused on `node`'s shard, counted. */
  private unavailable(node: DbNode, kind: 'write' | 'read', cause?: unknown): Error {
    this.metrics.unavailable.inc({ subgraph: this.options.subgraph, shard: String(node.shard), kind });
    return databaseUnavailable(node.shard, kind, cause);
  }

  /**
   * What a statement failing on a primary becomes: a lost connection marks the primary
   * down (writes then fail fast until a health check reaches it); any server failure
   * becomes DATABASE_UNAVAILABLE; a statement's own error stays what it is.
   */
  private primaryFailed(node: DbNode, kind: 'write' | 'read', error: unknown): unknown {
    if (!isServerFailure(error)) return error;
    if (isConnectionLost(error)) markPrimaryDown(node, error, { ...this.options, metrics: this.metrics });
    return this.unavailable(node, kind, error);
  }

  private async pickReplica(target: ShardNodes, consistencyKey: string | undefined): Promise<DbNode | undefined> {
    const healthy = target.replicas.filter((r) => r.healthy);
    const reason = (why: string) =>
      this.metrics.primaryFallbacks.inc({ subgraph: this.options.subgraph, shard: String(target.index), reason: why });
    if (healthy.length === 0) {
      reason('no_replica');
      return undefined;
    }
    let candidates = healthy;
    if (consistencyKey) {
      let required: bigint | undefined;
      try {
        required = await this.options.lsnStore.required(consistencyKey, target.index);
      } catch (error) {
        // Without the store we cannot prove a replica is fresh enough for this consistency key.
        this.options.logger.warn(
          { shard: target.index, err: (error as Error).message },
          'read-your-writes store unavailable; reading from primary',
        );
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

  private markReplicaDown(node: DbNode, error: unknown): void {
    const labels = { subgraph: this.options.subgraph, shard: String(node.shard), replica: node.label };
    this.metrics.replicaFailures.inc(labels);
    if (node.healthy)
      this.options.logger.warn(
        { ...labels, err: (error as Error).message },
        'replica failed; reading elsewhere until it recovers',
      );
    node.healthy = false;
    this.metrics.replicaHealthy.set(labels, 0);
  }

  private check(): Promise<void> {
    return checkShards(this.shards, {
      subgraph: this.options.subgraph,
      metrics: this.metrics,
      logger: this.options.logger,
      replicaMaxLagMs: this.options.replicaMaxLagMs ?? 5000,
    });
  }
}
