import fs from 'node:fs/promises';
import path from 'node:path';
import { postgresOwner } from './binaries';
import {
  buildPrimaries,
  primariesFromTemplate,
  primaryDir,
  replicaDir,
  seconds,
  type BuildContext,
  type Prepare,
} from './build';
import { configureStandby, writeServerConf } from './datadir';
import { assertReachable, copyDataDir } from './files';
import { EmbeddedPgNode, PgStartError, type PgNode } from './node';
import { checkShape, choosePorts, readState, stopStaleUnder, writeState } from './layout';
import { freePort } from './ports';
import { sleep } from './processes';

export interface EmbeddedClusterOptions {
  /** Root folder: shard i's primary in <dataDir>/shard<i>/primary, replica j in <dataDir>/shard<i>/replica<j>. */
  dataDir: string;
  shards?: number;
  replicasPerShard?: number;
  /**
   * Runs once, with every shard primary up, only when the cluster's data is created fresh
   * (not on a restart of existing data), before replicas are cloned from the primaries,
   * so that migrations and seed reach the replicas through the copy.
   */
  prepare?: Prepare;
  /**
   * A folder holding prepared shard primaries, built there (under a lock) on first use and
   * when `key` changes, then copied instead of running initdb and prepare again.
   */
  template?: { dir: string; key: string };
  /** Test settings: fsync, synchronous_commit and full_page_writes off. */
  fast?: boolean;
  /** Progress and server log lines. */
  onLog?: (line: string) => void;
  password?: string;
  database?: string;
  /** Fixed ports: shard i's primary gets basePort + i*(R+1), its replicas the ports after it. Free loopback ports otherwise. */
  basePort?: number;
}

export interface EmbeddedCluster {
  readonly shards: ReadonlyArray<{ index: number; primary: PgNode; replicas: PgNode[] }>;
  /** postgres:// URLs in shard order. */
  urls(): Array<{ primary: string; replicas: string[] }>;
  /** Stops replicas, then primaries. Idempotent. */
  stop(): Promise<void>;
}

interface Shard {
  index: number;
  primary: EmbeddedPgNode;
  replicas: EmbeddedPgNode[];
}

const STREAMING_TIMEOUT_MS = 60_000;

export async function startEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const started = Date.now();
  const dataDir = path.resolve(options.dataDir);
  const shardCount = options.shards ?? 2;
  const replicaCount = options.replicasPerShard ?? 1;
  if (!Number.isInteger(shardCount) || shardCount < 1)
    throw new Error(`shards must be a positive integer, got ${shardCount}`);
  if (!Number.isInteger(replicaCount) || replicaCount < 0)
    throw new Error(`replicasPerShard must be a non-negative integer, got ${replicaCount}`);
  const onLog = options.onLog ?? (() => undefined);
  const ctx: BuildContext = {
    shards: shardCount,
    password: options.password ?? 'postgres',
    database: options.database ?? 'commerce',
    fast: options.fast ?? false,
    owner: postgresOwner(),
    prepare: options.prepare,
    log: onLog,
    onLog,
  };
  await fs.mkdir(dataDir, { recursive: true });
  await assertReachable(dataDir, ctx.owner);
  if (options.template) await assertReachable(options.template.dir, ctx.owner);
  const state = await readState(dataDir);
  if (state) checkShape(state, dataDir, shardCount, replicaCount, ctx.database);
  // Servers left by a killed run would hold the ports we want to reuse.
  await stopStaleUnder(dataDir, onLog);

  const ports = await choosePorts(shardCount, replicaCount, options.basePort, state?.ports);
  const shards: Shard[] = ports.map((shardPorts, index) => ({
    index,
    primary: makeNode(ctx, 'primary', index, primaryDir(dataDir, index), shardPorts[0]!, `shard${index} primary`),
    replicas: shardPorts
      .slice(1)
      .map((port, j) =>
        makeNode(ctx, 'replica', index, replicaDir(dataDir, index, j), port, `shard${index} replica${j}`),
      ),
  }));
  const cluster = new Cluster(shards);
  try {
    let how = 'restart of existing data';
    if (!state) {
      await Promise.all(
        Array.from({ length: shardCount }, (_, i) =>
          fs.rm(path.join(dataDir, `shard${i}`), { recursive: true, force: true }),
        ),
      );
      if (options.template) {
        await primariesFromTemplate(options.template, dataDir, ctx);
        how = 'copy of template';
      } else {
        await buildPrimaries(
          dataDir,
          shards.map((shard) => shard.primary),
          ctx,
        );
        how = 'fresh init';
      }
      await cloneReplicas(shards, ctx);
    }
    await startShards(shards, ctx, options.basePort === undefined);
    await writeState(dataDir, {
      version: 1,
      shards: shardCount,
      replicasPerShard: replicaCount,
      database: ctx.database,
      ports: shards.map(portsOf),
    });
    onLog(
      `embedded cluster ready in ${seconds(started)} (${how}): ${shardCount} shards x (1 primary + ${replicaCount} replica${replicaCount === 1 ? '' : 's'})`,
    );
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** Stops any server still running on data under dataDir and deletes the folder. */
export async function resetEmbeddedData(
  dataDir: string,
  onLog: (line: string) => void = () => undefined,
): Promise<void> {
  const root = path.resolve(dataDir);
  await stopStaleUnder(root, onLog);
  await fs.rm(root, { recursive: true, force: true });
}

class Cluster implements EmbeddedCluster {
  constructor(readonly shards: Shard[]) {}

  urls(): Array<{ primary: string; replicas: string[] }> {
    return this.shards.map((shard) => ({
      primary: shard.primary.url,
      replicas: shard.replicas.map((replica) => replica.url),
    }));
  }

  /** Idempotent because each node's stop is; also stops nodes restarted one by one since. */
  async stop(): Promise<void> {
    await Promise.all(this.shards.flatMap((shard) => shard.replicas.map((replica) => replica.stop())));
    await Promise.all(this.shards.map((shard) => shard.primary.stop()));
  }
}

function makeNode(
  ctx: BuildContext,
  role: 'primary' | 'replica',
  shard: number,
  dataDir: string,
  port: number,
  label: string,
): EmbeddedPgNode {
  return new EmbeddedPgNode({
    role,
    shard,
    label,
    dataDir,
    port,
    password: ctx.password,
    database: ctx.database,
    owner: ctx.owner,
    onLog: ctx.onLog,
  });
}

const portsOf = (shard: Shard): number[] => [shard.primary.port, ...shard.replicas.map((replica) => replica.port)];

async function cloneReplicas(shards: Shard[], ctx: BuildContext): Promise<void> {
  const started = Date.now();
  await Promise.all(
    shards.flatMap((shard) =>
      shard.replicas.map((replica) => {
        ctx.log(`cloning ${replica.label} from ${shard.primary.label}`);
        return copyDataDir(shard.primary.dataDir, replica.dataDir, ctx.owner);
      }),
    ),
  );
  if (shards.some((shard) => shard.replicas.length > 0)) ctx.log(`replicas cloned in ${seconds(started)}`);
}

/** Primaries first (replicas need them and their slots), then replicas, then wait for streaming. */
async function startShards(shards: Shard[], ctx: BuildContext, autoPorts: boolean): Promise<void> {
  const started = Date.now();
  const all = shards.flatMap((shard) => [shard.primary, ...shard.replicas]);
  await Promise.all(all.map((node) => writeServerConf(node.dataDir, { fast: ctx.fast }, ctx.owner)));
  ctx.log(`starting ${shards.length} primaries`);
  await Promise.all(shards.map((shard) => startNode(shard.primary, ctx, autoPorts)));
  await Promise.all(
    shards.map(async (shard) => {
      for (const [j, replica] of shard.replicas.entries()) {
        await shard.primary.query(
          `select pg_create_physical_replication_slot($1, true) where not exists (select 1 from pg_replication_slots where slot_name = $1)`,
          [slotName(j)],
        );
        await configureStandby(replica.dataDir, {
          primaryPort: shard.primary.port,
          password: ctx.password,
          slot: slotName(j),
          owner: ctx.owner,
        });
      }
    }),
  );
  const replicas = shards.flatMap((shard) => shard.replicas.map((replica) => ({ replica, primary: shard.primary })));
  if (replicas.length > 0) ctx.log(`starting ${replicas.length} replicas`);
  await Promise.all(replicas.map(({ replica }) => startNode(replica, ctx, autoPorts)));
  await Promise.all(replicas.map(({ replica, primary }) => waitStreaming(replica, primary, ctx)));
  ctx.log(`${all.length} servers up in ${seconds(started)}`);
}

const slotName = (replica: number): string => `replica${replica}`;

/** A free port can be taken by someone else before Postgres binds it; then try another. */
async function startNode(node: EmbeddedPgNode, ctx: BuildContext, autoPorts: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await node.start();
      ctx.log(`${node.label} up on port ${node.port} (pid ${node.pid()})`);
      return;
    } catch (error) {
      if (!(error instanceof PgStartError && error.portInUse && autoPorts && attempt < 4)) throw error;
      const taken = node.port;
      node.port = await freePort();
      ctx.log(`${node.label}: port ${taken} was taken, retrying on ${node.port}`);
    }
  }
}

async function waitStreaming(replica: EmbeddedPgNode, primary: EmbeddedPgNode, ctx: BuildContext): Promise<void> {
  const deadline = Date.now() + STREAMING_TIMEOUT_MS;
  for (;;) {
    const rows = await replica.query<{ status: string }>('select status from pg_stat_wal_receiver').catch(() => []);
    if (rows[0]?.status === 'streaming') {
      ctx.log(`${replica.label} streaming from ${primary.label} (port ${primary.port})`);
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${replica.label} not streaming from port ${primary.port} after ${STREAMING_TIMEOUT_MS / 1000} s.\n` +
          `Replica log tail:\n${replica.logTail()}\nPrimary log tail:\n${primary.logTail()}`,
      );
    }
    await sleep(100);
  }
}
