import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@commerce/common';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { MIGRATIONS_DIR, bootstrapShards, buildShardMap, loadSubgraphConfig, prepareEmbeddedPrimaries, startSubgraph, type RunningSubgraph, type ShardMap } from '@commerce/kit';
import { startEmbeddedCluster, type EmbeddedCluster } from '@commerce/kit/embedded';
import { ordersSubgraph } from '@commerce/orders';
import { productsSubgraph } from '@commerce/products';
import { usersSubgraph } from '@commerce/users';

export const SUBGRAPHS = { users: usersSubgraph, products: productsSubgraph, orders: ordersSubgraph } as const;
export type SubgraphName = keyof typeof SUBGRAPHS;

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  shards?: number;
  replicasPerShard?: number;
  /** Copy a prepared (migrated + seeded) cluster from here instead of seeding again (tests). */
  templateDir?: string;
  /** fsync off etc.: for tests only. */
  fast?: boolean;
  basePort?: number;
}

export interface PlatformOptions {
  /** External databases (SHARD_MAP / DATABASE_SHARDS). When absent, `embedded` is started. */
  shardMap?: ShardMap;
  embedded?: EmbeddedDatabaseOptions;
  /** Seed an external, empty database. Default true. */
  seed?: boolean;
  /** Environment for the services' configuration (REDIS_URL, NODE_ENV, …). PORT/HOST are set here. */
  env?: Record<string, string | undefined>;
  host?: string;
  gatewayPort?: number;
  subgraphPorts?: Partial<Record<SubgraphName, number>>;
  log?: (msg: string) => void;
  logger?: Logger;
}

export interface Platform {
  readonly cluster?: EmbeddedCluster;
  readonly shardMap: ShardMap;
  readonly subgraphs: Record<SubgraphName, RunningSubgraph>;
  readonly gateway: RunningGateway;
  /** Stops the gateway, then the subgraphs, then the databases. Idempotent. */
  stop(): Promise<void>;
}

/** A key that changes whenever the migrations or the seed change, so stale templates are rebuilt. */
export function templateKey(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  hash.update(readFileSync(new URL('../../subgraphs/kit/src/seed.ts', import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}

function mapOfCluster(cluster: EmbeddedCluster): ShardMap {
  return buildShardMap({ shards: cluster.urls().map((u, i) => ({ name: `shard${i}`, primary: u.primary, replicas: u.replicas })) });
}

/**
 * Starts the whole platform in this process: databases (embedded or
 * external), the three subgraphs, and the gateway routed to them.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? {};
  const host = options.host ?? '127.0.0.1';
  const stack: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stack.reverse().splice(0)) await stop().catch((error: Error) => log(`stop failed: ${error.message}`));
  };
  try {
    let cluster: EmbeddedCluster | undefined;
    let shardMap = options.shardMap;
    if (!shardMap) {
      const embedded = options.embedded;
      if (!embedded) throw new Error('startPlatform needs a shardMap or embedded database options');
      cluster = await startEmbeddedCluster({
        dataDir: embedded.dataDir,
        shards: embedded.shards ?? 2,
        replicasPerShard: embedded.replicasPerShard ?? 1,
        prepare: prepareEmbeddedPrimaries,
        template: embedded.templateDir ? { dir: embedded.templateDir, key: templateKey() } : undefined,
        fast: embedded.fast,
        basePort: embedded.basePort,
        onLog: log,
      });
      stack.push(() => cluster!.stop());
      shardMap = mapOfCluster(cluster);
      // Existing data from an earlier run may predate new migrations.
      await bootstrapShards(shardMap, { seed: false, log });
    } else {
      await bootstrapShards(shardMap, { seed: options.seed ?? true, log });
    }

    const subgraphs = {} as Record<SubgraphName, RunningSubgraph>;
    for (const name of Object.keys(SUBGRAPHS) as SubgraphName[]) {
      const port = options.subgraphPorts?.[name] ?? 0;
      const config = loadSubgraphConfig({ ...env, PORT: String(port), HOST: host }, port, shardMap);
      const logger = options.logger?.child({ service: name }) ?? createLogger(name);
      subgraphs[name] = await startSubgraph(SUBGRAPHS[name] as (typeof SUBGRAPHS)['users'], config, logger);
      stack.push(() => subgraphs[name].stop());
    }

    const subgraphUrls = (Object.keys(subgraphs) as SubgraphName[]).map((name) => `${name}=${subgraphs[name].url}`).join(',');
    const gateway = await startGateway(
      loadGatewayConfig({ ...env, PORT: String(options.gatewayPort ?? 0), HOST: host, SUBGRAPH_URLS: subgraphUrls }),
      options.logger ? { logger: options.logger.child({ service: 'gateway' }) } : {},
    );
    stack.push(() => gateway.stop());

    let stopping: Promise<void> | undefined;
    return { cluster, shardMap, subgraphs, gateway, stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
