import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shardMapToJson, type ShardMap } from '@commerce/kit';
import { freePort, type EmbeddedCluster } from '@commerce/kit/embedded';
import { startDatabases, subgraphEnv, type PlatformOptions, type SubgraphName } from './platform';
import { SupervisedProcess } from './supervised-process';
import { buildGateway } from '../build-gateway';
import { REPO_ROOT, discoverSubgraphs } from './subgraphs';

/** Options of {@link startSupervisedPlatform}: those of the in-process platform, plus restart timing. */
export interface SupervisorOptions extends Omit<PlatformOptions, 'logger'> {
  /** First restart delay of a service that died; doubled per crash in a row. Default 500. */
  restartDelayMs?: number;
  /** Cap of the restart delay. Default 30000. */
  maxRestartDelayMs?: number;
  /** How long a service may drain after SIGTERM before SIGKILL (its SHUTDOWN_TIMEOUT_MS plus a margin). Default 25000. */
  stopTimeoutMs?: number;
}

/** A service run by the supervisor. */
export interface SupervisedService {
  /** GraphQL endpoint, e.g. `http://127.0.0.1:4001/graphql`. */
  readonly url: string;
  readonly port: number;
  readonly process: SupervisedProcess;
}

export interface SupervisedPlatform {
  readonly cluster?: EmbeddedCluster;
  readonly shardMap: ShardMap;
  readonly subgraphs: Record<SubgraphName, SupervisedService>;
  readonly gateway: SupervisedService;
  /** Stops the gateway (it drains), then the subgraphs, then the databases. Idempotent. */
  stop(): Promise<void>;
}

/** Watchdog stages: when the supervisor dies, the gateway stops first, then the subgraphs, then Postgres (stage 2). */
const GATEWAY_STAGE = 0;
const SUBGRAPH_STAGE = 1;

/** `npm run gateway` without `node`: its runtime flags and the bundle (built by {@link buildGateway} before it starts). */
function gatewayArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = pkg.scripts.gateway!.trim().split(/\s+/);
  if (command !== 'node') throw new Error(`the "gateway" script of package.json must start with node, got ${command}`);
  return args;
}

function subgraphArgs(name: string): string[] {
  const entry = join('subgraphs', name, 'src', 'index.ts');
  if (!existsSync(join(REPO_ROOT, entry)))
    throw new Error(`${entry} is missing: a subgraph run by npm start needs an entry point that listens`);
  return ['--import', 'tsx', entry];
}

/**
 * Starts the platform as separate processes, as every deployment runs it:
 * the databases here (embedded cluster, or external shards), then each
 * subgraph in its own process (`SHARD_MAP`, `PORT`, `HOST`), then the gateway
 * (`SUBGRAPH_URLS`), each awaited on `/ready`. A service that dies is logged
 * and restarted with backoff while the others keep serving. When this
 * process dies, however it dies, the watchdog stops the services and the
 * databases.
 */
export async function startSupervisedPlatform(options: SupervisorOptions): Promise<SupervisedPlatform> {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? {};
  const host = options.host ?? '127.0.0.1';
  const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const stack: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stack.reverse().splice(0))
      await stop().catch((error: Error) => log(`stop failed: ${error.message}`));
  };
  const supervise = (
    name: string,
    stage: number,
    args: string[],
    port: number,
    childEnv: Record<string, string>,
  ): SupervisedService => {
    const base = stage === SUBGRAPH_STAGE ? subgraphEnv(env) : env;
    const supervised = new SupervisedProcess({
      name,
      args,
      env: { ...base, ...childEnv, PORT: String(port), HOST: host },
      cwd: REPO_ROOT,
      readyUrl: `http://${probeHost}:${port}/ready`,
      log,
      stage,
      restartDelayMs: options.restartDelayMs,
      maxRestartDelayMs: options.maxRestartDelayMs,
      stopTimeoutMs: options.stopTimeoutMs ?? 25_000,
    });
    return { url: `http://${host}:${port}/graphql`, port, process: supervised };
  };
  try {
    const databases = await startDatabases(options);
    stack.push(async () => {
      await databases.stop();
      if (databases.cluster) log('embedded Postgres stopped');
    });
    const shardMapJson = shardMapToJson(databases.shardMap);

    const discovered = options.subgraphs ?? (await discoverSubgraphs());
    for (const { name, url } of discovered.external)
      log(`subgraph ${name} is not in this repository; the gateway routes it to ${url}`);
    const subgraphs: Record<SubgraphName, SupervisedService> = {};
    for (const { name } of discovered.local) {
      const port = options.subgraphPorts?.[name] || (await freePort());
      subgraphs[name] = supervise(name, SUBGRAPH_STAGE, subgraphArgs(name), port, { SHARD_MAP: shardMapJson });
    }
    const all = Object.values(subgraphs);
    // Stopped together, after the gateway (pushed later, so stopped first).
    stack.push(async () => void (await Promise.all(all.map((s) => s.process.stop()))));
    log(`starting ${all.length} subgraph processes`);
    await Promise.all(all.map((s) => s.process.start()));

    const subgraphUrls = Object.entries(subgraphs)
      .map(([name, s]) => `${name}=http://${probeHost}:${s.port}/graphql`)
      .join(',');
    // The gateway runs as `npm run gateway` runs it: the bundle, rebuilt from the sources on every start.
    await buildGateway();
    const gateway = supervise('gateway', GATEWAY_STAGE, gatewayArgs(), options.gatewayPort || (await freePort()), {
      SUBGRAPH_URLS: subgraphUrls,
    });
    stack.push(() => gateway.process.stop());
    await gateway.process.start();

    let stopping: Promise<void> | undefined;
    return {
      cluster: databases.cluster,
      shardMap: databases.shardMap,
      subgraphs,
      gateway,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
