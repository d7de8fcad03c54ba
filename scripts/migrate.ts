/**
 * npm run db:migrate — applies the SQL migrations to every shard primary of
 * SHARD_MAP / DATABASE_SHARDS (the embedded default migrates at `npm start`).
 */
import { ConfigError } from '@commerce/common';
import { bootstrapShards, shardMapFromEnv } from '@commerce/kit';

try {
  const map = shardMapFromEnv(process.env);
  if (!map)
    throw new ConfigError(
      'set SHARD_MAP or DATABASE_SHARDS to the databases to migrate (npm start migrates the embedded ones itself)',
    );
  await bootstrapShards(map, { seed: false, log: (msg) => console.log(`[migrate] ${msg}`) });
} catch (error) {
  console.error(`[migrate] ${error instanceof ConfigError ? 'configuration error: ' : ''}${(error as Error).message}`);
  process.exit(1);
}
