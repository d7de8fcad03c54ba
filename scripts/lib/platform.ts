import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@commerce/common';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import {
  MIGRATIONS_DIR,
  bootstrapShards,
  buildShardMap,
  loadSubgraphConfig,
  prepareEmbeddedPrimaries,
  startSubgraph,
  type RunningSubgraph,
  type ShardMap,
} from '@commerce/kit';
import { startEmbeddedCluster, type EmbeddedCluster } from '@commerce/kit/embedded';
import { generateInternalKeyPair } from './dev-auth';
import { discoverSubgraphs, type DiscoveredSubgraphs } from './subgraphs';

/** A subgraph's name as in `schema/supergraph.yaml`. */
export type SubgraphName = string;

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
  /** Ports of the subgraphs started here; 0 (any free port) for those not named. */
  subgraphPorts?: Partial<Record<SubgraphName, number>>;
  /** The subgraphs to run. Default: {@link discoverSubgraphs} (schema/supergraph.yaml + subgraphs/<name>/src/server.ts). */
  subgraphs?: DiscoveredSubgraphs;
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
  for (const file of readdirSync(MIGRATIONS_DIR).sort())
    hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  hash.update(readFileSync(new URL('../../subgraphs/kit/src/seed.ts', import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}

function mapOfCluster(cluster: EmbeddedCluster): ShardMap {
  return buildShardMap({
    shards: cluster.urls().map((u, i) => ({ name: `shard${i}`, primary: u.primary, replicas: u.replicas })),
  });
}

/** The platform's databases, migrated (and seeded when new). */
export interface Databases {
  readonly cluster?: EmbeddedCluster;
  readonly shardMap: ShardMap;
  /** Stops the embedded cluster, if any. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded cluster (or takes the external shards), then migrates
 * and, for external databases asked to, seeds. Embedded data is seeded once,
 * when created (or copied from the template).
 */
export async function startDatabases(
  options: Pick<PlatformOptions, 'shardMap' | 'embedded' | 'seed' | 'log'>,
): Promise<Databases> {
  const log = options.log ?? (() => undefined);
  if (options.shardMap) {
    await bootstrapShards(options.shardMap, { seed: options.seed ?? true, log });
    return { shardMap: options.shardMap, stop: async () => undefined };
  }
  const embedded = options.embedded;
  if (!embedded) throw new Error('the platform needs a shardMap or embedded database options');
  const cluster = await startEmbeddedCluster({
    dataDir: embedded.dataDir,
    shards: embedded.shards ?? 2,
    replicasPerShard: embedded.replicasPerShard ?? 1,
    prepare: prepareEmbeddedPrimaries,
    template: embedded.templateDir ? { dir: embedded.templateDir, key: templateKey() } : undefined,
    fast: embedded.fast,
    basePort: embedded.basePort,
    onLog: log,
  });
  const shardMap = mapOfCluster(cluster);
  try {
    // Existing data from an earlier run may predate new migrations.
    await bootstrapShards(shardMap, { seed: false, log });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { cluster, shardMap, stop: () => cluster.stop() };
}

/**
 * The environment with an internal identity key pair: the configured one, or
 * a fresh one for this platform's gateway and subgraphs (README "Authentication").
 */
export function withInternalIdentityKeys(env: Record<string, string | undefined>): Record<string, string | undefined> {
  if (env.INTERNAL_IDENTITY_PUBLIC_KEY || env.INTERNAL_IDENTITY_PRIVATE_KEY) return env;
  const pair = generateInternalKeyPair();
  return { ...env, INTERNAL_IDENTITY_PRIVATE_KEY: pair.privateKey, INTERNAL_IDENTITY_PUBLIC_KEY: pair.publicKey };
}

/** A subgraph's environment: never the gateway's private key, so no subgraph can mint an identity. */
export function subgraphEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const { INTERNAL_IDENTITY_PRIVATE_KEY: _private, JWT_SECRET: _secret, ...rest } = env;
  return rest;
}

/**
 * Starts the whole platform in this process: databases (embedded or
 * external), every subgraph this repository implements, and the gateway
 * routed to them (subgraphs served elsewhere keep their routing_url).
 * `npm start` runs each service in its own process instead (supervisor.ts).
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => undefined);
  const env = withInternalIdentityKeys(options.env ?? {});
  const host = options.host ?? '127.0.0.1';
  const stack: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stack.reverse().splice(0))
      await stop().catch((error: Error) => log(`stop failed: ${error.message}`));
  };
  try {
    const databases = await startDatabases(options);
    stack.push(() => databases.stop());
    const { cluster, shardMap } = databases;

    const discovered = options.subgraphs ?? (await discoverSubgraphs());
    for (const { name, url } of discovered.external)
      log(`subgraph ${name} is not in this repository; the gateway routes it to ${url}`);
    const subgraphs: Record<SubgraphName, RunningSubgraph> = {};
    for (const { name, definition } of discovered.local) {
      const port = options.subgraphPorts?.[name] ?? 0;
      const config = loadSubgraphConfig(subgraphEnv({ ...env, PORT: String(port), HOST: host }), port, shardMap);
      const logger = options.logger?.child({ service: name }) ?? createLogger(name);
      const running = await startSubgraph(definition, config, logger);
      subgraphs[name] = running;
      stack.push(() => running.stop());
    }

    const subgraphUrls = Object.entries(subgraphs)
      .map(([name, running]) => `${name}=${running.url}`)
      .join(',');
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
