/**
 * The one-shot database job of docker-compose.yml (and of a Kubernetes Job if
 * you want one): applies the migrations to every shard primary of
 * `SHARD_MAP` / `DATABASE_SHARDS` and, unless `SEED=false`, seeds them when
 * they are empty (`npm run db:migrate` migrates only). Idempotent: rerunning
 * it against a migrated, seeded cluster changes nothing.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, boolVar, type Env } from '@commerce/common';
import { bootstrapShards, shardMapFromEnv, type ShardMap } from '@commerce/kit';

/** What the job reads from its environment. */
export interface DbBootstrapConfig {
  /** `SHARD_MAP` or `DATABASE_SHARDS`: the primaries to migrate (required). */
  readonly shardMap: ShardMap;
  /** `SEED`: seed empty primaries. Default true. */
  readonly seed: boolean;
}

export function loadDbBootstrapConfig(env: Env): DbBootstrapConfig {
  const shardMap = shardMapFromEnv(env);
  if (!shardMap) throw new ConfigError('set SHARD_MAP or DATABASE_SHARDS to the databases to migrate');
  return Object.freeze({ shardMap, seed: boolVar(env, 'SEED', true) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const config = loadDbBootstrapConfig(process.env);
    await bootstrapShards(config.shardMap, { seed: config.seed, log: (msg) => console.log(`[db-bootstrap] ${msg}`) });
  } catch (error) {
    console.error(
      `[db-bootstrap] ${error instanceof ConfigError ? 'configuration error: ' : ''}${(error as Error).message}`,
    );
    process.exit(1);
  }
}
