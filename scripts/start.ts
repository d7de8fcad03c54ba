/**
 * npm start [-- --reset]
 *
 * With no database configuration: starts embedded Postgres (2 shards, each a
 * primary + one streaming replica) in DATA_DIR, migrates, seeds on first run,
 * then every subgraph of schema/supergraph.yaml that has a
 * subgraphs/<name>/src/server.ts, and the gateway, each in its own process,
 * supervised (a service that dies is restarted with backoff). With SHARD_MAP or
 * DATABASE_SHARDS set, uses those databases and starts no embedded ones.
 * Ctrl-C (SIGINT) or SIGTERM stops the gateway, then the subgraphs, then Postgres.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  ConfigError,
  createLogger,
  intVar,
  loadShutdownConfig,
  optionalVar,
  stopOnSignals,
  stringVar,
} from '@commerce/common';
import { encodeId, shardMapFromEnv } from '@commerce/kit';
import { resetEmbeddedData } from '@commerce/kit/embedded';
import { loadGatewayConfig } from '@commerce/gateway';
import { devAuthDir, ensureDevAuthKeys, mintDevToken } from './lib/dev-auth';
import { startSupervisedPlatform } from './lib/supervisor';
import { discoverSubgraphs, portVariable } from './lib/subgraphs';

const { values } = parseArgs({ options: { reset: { type: 'boolean', default: false } } });
const say = (msg: string) => console.log(`[start] ${msg}`);
// Postgres server lines are prefixed "[shardN role]"; show only the ones that matter (LOG_LEVEL=debug shows all).
const verbose = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
const progress = (msg: string) => {
  if (verbose || !msg.startsWith('[shard') || /\b(WARNING|ERROR|FATAL|PANIC):/.test(msg)) say(msg);
};

async function firstUserIds(primaryUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 2');
    return rows.map((row) => encodeId('User', row.id));
  } finally {
    await client.end();
  }
}

/**
 * Outside production, with no keys configured: the development keys in
 * DATA_DIR/auth (created once) for client tokens and the internal identity.
 */
async function withDevelopmentKeys(env: NodeJS.ProcessEnv, dataDir: string): Promise<NodeJS.ProcessEnv> {
  if (env.NODE_ENV === 'production') return env;
  const keys = await ensureDevAuthKeys(dataDir);
  const added: Record<string, string> = {};
  if (!env.JWT_SECRET && !env.JWT_JWKS_URL) added.JWT_SECRET = keys.jwtSecret;
  if (!env.INTERNAL_IDENTITY_PRIVATE_KEY && !env.INTERNAL_IDENTITY_PUBLIC_KEY) {
    added.INTERNAL_IDENTITY_PRIVATE_KEY = keys.internalPrivateKey;
    added.INTERNAL_IDENTITY_PUBLIC_KEY = keys.internalPublicKey;
  }
  if (Object.keys(added).length > 0)
    say(`development keys from ${devAuthDir(dataDir)}: ${Object.keys(added).join(', ')}`);
  return { ...env, ...added };
}

async function main(): Promise<void> {
  const dataDir = resolve(stringVar(process.env, 'DATA_DIR', '.data'));
  if (values.reset && !shardMapFromEnv(process.env)) {
    say(`--reset: deleting ${dataDir}`);
    await resetEmbeddedData(dataDir, say);
    await rm(dataDir, { recursive: true, force: true });
  }
  const env = await withDevelopmentKeys(process.env, dataDir);
  const shardMap = shardMapFromEnv(env);
  const gatewayPort = intVar(env, 'PORT', 4000, { min: 0, max: 65535 });
  const host = stringVar(env, 'HOST', '127.0.0.1');
  say(
    shardMap
      ? `using ${shardMap.shards.length} external shard(s) from the environment`
      : `embedded Postgres in ${dataDir} (first run initialises and seeds: about a minute)`,
  );
  const started = Date.now();
  const logger = createLogger('platform');
  // Every subgraph of schema/supergraph.yaml with a subgraphs/<name>/src/server.ts; USERS_PORT, REVIEWS_PORT… override their ports.
  const discovered = await discoverSubgraphs();
  const shutdown = loadShutdownConfig(env);
  // A service gets its drain plus a margin before SIGKILL; the launcher waits for the gateway's drain, then the subgraphs'.
  const stopTimeoutMs = shutdown.delayMs + shutdown.timeoutMs + 10_000;
  const platform = await startSupervisedPlatform({
    shardMap,
    embedded: shardMap
      ? undefined
      : {
          dataDir,
          shards: intVar(env, 'EMBEDDED_SHARDS', 2, { min: 1, max: 16 }),
          replicasPerShard: intVar(env, 'EMBEDDED_REPLICAS', 1, { min: 0, max: 4 }),
          // For tests: copy a prepared (migrated + seeded) cluster kept here instead of seeding.
          templateDir: optionalVar(env, 'EMBEDDED_TEMPLATE_DIR'),
        },
    seed: env.SEED !== 'false',
    env,
    host,
    gatewayPort,
    subgraphs: discovered,
    subgraphPorts: Object.fromEntries(
      discovered.local.map((s) => [s.name, intVar(env, portVariable(s.name), s.defaultPort, { min: 0, max: 65535 })]),
    ),
    log: progress,
    restartDelayMs: intVar(env, 'RESTART_DELAY_MS', 500, { min: 10, max: 600_000 }),
    maxRestartDelayMs: intVar(env, 'RESTART_MAX_DELAY_MS', 30_000, { min: 10, max: 3_600_000 }),
    stopTimeoutMs,
  });

  stopOnSignals(platform.stop, logger, 'the gateway, subgraphs and databases', {
    timeoutMs: 2 * stopTimeoutMs + 30_000,
    delayMs: 0,
  });
  // A wrapper that started us (npm, tsx) killed outright sends no signal: stop as if it had.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.kill(process.pid, 'SIGTERM'), 1000).unref();

  const [userId, adminId] = await firstUserIds(platform.shardMap.shards[0]!.primary).catch(() => []);
  const secret = env.JWT_SECRET;
  // Development tokens only with the development secret (never with a JWKS or in production).
  const mint = (user: string, scopes: string[]) =>
    secret && env.NODE_ENV !== 'production'
      ? mintDevToken({ secret, user, scopes, expiresInSeconds: 12 * 3600 })
      : Promise.resolve(undefined);
  const userToken = userId ? await mint(userId, []) : undefined;
  const adminToken = adminId ? await mint(adminId, ['admin', 'products:write']) : undefined;
  const { gateway, subgraphs } = platform;
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`
  Gateway    ${gateway.url}   (health: /health, readiness: /ready, metrics: /metrics)${
    loadGatewayConfig(env).sandbox
      ? `\n  Sandbox    open ${gateway.url} in a browser (GraphiQL, served offline by the gateway)`
      : ''
  }
  Subgraphs  ${Object.entries(subgraphs)
    .map(([name, s]) => `${name} ${s.url}`)
    .join(', ')}
  Processes  ${[['gateway', gateway] as const, ...Object.entries(subgraphs)].map(([name, s]) => `${name} pid ${s.process.pid}`).join(', ')} (each restarted if it dies)
  Databases  ${platform.shardMap.shards.map((s) => `${s.name}: primary + ${s.replicas.length} replica(s)`).join('; ')}

  Try the deep query (users → their orders → items → product):

  curl -s ${gateway.url} -H 'content-type: application/json' \\
    -d '{"query":"{ users(first: 3) { edges { node { id name orders(first: 2) { edges { node { id total { formatted } items { quantity product { name price { formatted } } } } } } } } } }"}'
${
  userToken
    ? `
  Or act as a user (a development token for ${userId}, valid 12 h; more: npm run token -- --user usr_… [--scope admin]):

  curl -s ${gateway.url} -H 'content-type: application/json' -H 'authorization: Bearer ${userToken}' \\
    -d '{"query":"{ me { name email orders(first: 3) { edges { node { id status total { formatted } } } } } }"}'

  Admin token (${adminId}, scopes admin products:write):

  ${adminToken}
`
    : ''
}
  Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`[start] configuration error: ${error.message}`);
  else console.error('[start] failed to start:', error);
  process.exit(1);
});
