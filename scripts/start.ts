/**
 * npm start [-- --reset]
 *
 * With no database configuration: starts embedded Postgres (2 shards, each a
 * primary + one streaming replica) in DATA_DIR, migrates, seeds on first run,
 * then every subgraph of schema/supergraph.yaml that has a
 * subgraphs/<name>/src/server.ts, and the gateway. With SHARD_MAP or DATABASE_SHARDS
 * set, uses those databases and starts no embedded ones. Ctrl-C stops all.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConfigError, createLogger, intVar, stopOnSignals, stringVar } from '@commerce/common';
import { encodeId, shardMapFromEnv } from '@commerce/kit';
import { resetEmbeddedData } from '@commerce/kit/embedded';
import { loadGatewayConfig } from '@commerce/gateway';
import { startPlatform } from './lib/platform';
import { discoverSubgraphs, portVariable } from './lib/subgraphs';

const { values } = parseArgs({ options: { reset: { type: 'boolean', default: false } } });
const say = (msg: string) => console.log(`[start] ${msg}`);
// Postgres server lines are prefixed "[shardN role]"; show only the ones that matter (LOG_LEVEL=debug shows all).
const verbose = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
const progress = (msg: string) => {
  if (verbose || !msg.startsWith('[shard') || /\b(WARNING|ERROR|FATAL|PANIC):/.test(msg)) say(msg);
};

async function firstUserId(primaryUrl: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 1');
    return rows[0] && encodeId('User', rows[0].id);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const shardMap = shardMapFromEnv(env);
  const dataDir = resolve(stringVar(env, 'DATA_DIR', '.data'));
  const gatewayPort = intVar(env, 'PORT', 4000, { min: 0, max: 65535 });
  const host = stringVar(env, 'HOST', '127.0.0.1');
  if (values.reset && !shardMap) {
    say(`--reset: deleting ${dataDir}`);
    await resetEmbeddedData(dataDir, say);
    await rm(dataDir, { recursive: true, force: true });
  }
  say(shardMap ? `using ${shardMap.shards.length} external shard(s) from the environment` : `embedded Postgres in ${dataDir} (first run initialises and seeds: about a minute)`);
  const started = Date.now();
  const logger = createLogger('platform');
  // Every subgraph of schema/supergraph.yaml with a subgraphs/<name>/src/server.ts; USERS_PORT, REVIEWS_PORT… override their ports.
  const discovered = await discoverSubgraphs();
  const platform = await startPlatform({
    shardMap,
    embedded: shardMap ? undefined : { dataDir, shards: intVar(env, 'EMBEDDED_SHARDS', 2, { min: 1, max: 16 }), replicasPerShard: intVar(env, 'EMBEDDED_REPLICAS', 1, { min: 0, max: 4 }) },
    seed: env.SEED !== 'false',
    env,
    host,
    gatewayPort,
    subgraphs: discovered,
    subgraphPorts: Object.fromEntries(discovered.local.map((s) => [s.name, intVar(env, portVariable(s.name), s.defaultPort, { min: 0, max: 65535 })])),
    log: progress,
    logger,
  });

  stopOnSignals(platform.stop, logger, 'the gateway, subgraphs and databases');

  const userId = await firstUserId(platform.shardMap.shards[0]!.primary).catch(() => undefined);
  const { gateway, subgraphs } = platform;
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`
  Gateway    ${gateway.url}   (health: /health, readiness: /ready, metrics: /metrics)${
    loadGatewayConfig(env).sandbox ? `\n  Sandbox    open ${gateway.url} in a browser (GraphiQL, served offline by the gateway)` : ''
  }
  Subgraphs  ${Object.entries(subgraphs).map(([name, s]) => `${name} ${s.url}`).join(', ')}
  Databases  ${platform.shardMap.shards.map((s) => `${s.name}: primary + ${s.replicas.length} replica(s)`).join('; ')}

  Try the deep query (users → their orders → items → product):

  curl -s ${gateway.url} -H 'content-type: application/json' \\
    -d '{"query":"{ users(first: 3) { edges { node { id name orders(first: 2) { edges { node { id total { formatted } items { quantity product { name price { formatted } } } } } } } } } }"}'
${userId ? `
  Or act as a user (development header x-user-id):

  curl -s ${gateway.url} -H 'content-type: application/json' -H 'x-user-id: ${userId}' \\
    -d '{"query":"{ me { name email orders(first: 3) { edges { node { id status total { formatted } } } } } }"}'
` : ''}
  Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`[start] configuration error: ${error.message}`);
  else console.error('[start] failed to start:', error);
  process.exit(1);
});
