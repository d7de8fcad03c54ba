import DataLoader from 'dataloader';
import type pg from 'pg';
import type { ShardedDb } from './db/sharded-db';

/**
 * Batch helpers for per-request DataLoaders: keys are grouped by the shard
 * their ID routes to and each group is ONE statement (`= ANY($1)`), run on
 * all shards in parallel. Results come back in key order; a failed shard
 * yields `Error` values for its keys only.
 */
export async function batchByShard<K, V>(
  db: ShardedDb,
  keys: readonly K[],
  idOf: (key: K) => bigint | string,
  run: (shard: number, group: K[]) => Promise<(V | Error)[]>,
): Promise<(V | Error)[]> {
  const results = new Array<V | Error>(keys.length);
  await Promise.all(
    [...db.groupByShard(keys, idOf)].map(async ([shard, entries]) => {
      let values: (V | Error)[];
      try {
        values = await run(
          shard,
          entries.map((e) => e.key),
        );
        if (values.length !== entries.length)
          throw new Error(`batch for shard ${shard} returned ${values.length} values for ${entries.length} keys`);
      } catch (error) {
        values = entries.map(() => error as Error);
      }
      entries.forEach((entry, i) => (results[entry.index] = values[i]!));
    }),
  );
  return results;
}

/** A loader of rows by their bigint primary key (as a decimal string); missing rows load as null. */
export function rowsById<R extends pg.QueryResultRow & { id: string }>(
  db: ShardedDb,
  consistencyKey: string | undefined,
  sql: string,
): DataLoader<string, R | null> {
  return new DataLoader<string, R | null>((ids) =>
    batchByShard(
      db,
      ids,
      (id) => id,
      async (shard, group) => {
        const { rows } = await db.read<R>(shard, consistencyKey, sql, [group]);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return group.map((id) => byId.get(id) ?? null);
      },
    ),
  );
}

/** A loader of row lists grouped by a parent key column (e.g. items by order_id). */
export function rowsByParent<R extends pg.QueryResultRow>(
  db: ShardedDb,
  consistencyKey: string | undefined,
  sql: string,
  parentOf: (row: R) => string,
): DataLoader<string, R[]> {
  return new DataLoader<string, R[]>((ids) =>
    batchByShard(
      db,
      ids,
      (id) => id,
      async (shard, group) => {
        const { rows } = await db.read<R>(shard, consistencyKey, sql, [group]);
        const byParent = new Map<string, R[]>();
        for (const row of rows) {
          const key = parentOf(row);
          let list = byParent.get(key);
          if (!list) byParent.set(key, (list = []));
          list.push(row);
        }
        return group.map((id) => byParent.get(id) ?? []);
      },
    ),
  );
}
