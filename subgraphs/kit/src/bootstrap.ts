import { migrateShards } from './migrate';
import { isEmpty, seedShards } from './seed';
import { buildShardMap, type ShardMap } from './shard-map';

/**
 * Brings shard primaries to the current schema and, when they hold no data
 * yet and `seed` is on, writes the deterministic seed. Idempotent.
 */
export async function bootstrapShards(
  map: ShardMap,
  { seed = true, log = (_: string) => undefined }: { seed?: boolean; log?: (msg: string) => void } = {},
): Promise<void> {
  const started = Date.now();
  const applied = await migrateShards(map.shards.map((s) => s.primary));
  const names = [...new Set(applied.flat())];
  log(
    names.length ? `applied migrations ${names.join(', ')} on ${map.shards.length} shard(s)` : 'migrations up to date',
  );
  if (seed && (await isEmpty(map))) {
    log('seeding (first run)…');
    const counts = await seedShards(map);
    log(
      `seeded ${counts.users} users, ${counts.products} products, ${counts.orders} orders, ${counts.items} order items in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}

/** The `prepare` step of the embedded cluster: primaries only, buckets split evenly. */
export function prepareEmbeddedPrimaries(primaryUrls: string[], log: (msg: string) => void): Promise<void> {
  return bootstrapShards(buildShardMap({ shards: primaryUrls.map((primary) => ({ primary })) }), { log });
}
