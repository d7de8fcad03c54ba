import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { decodeId, encodeId } from '@commerce/kit';
import { DEV_AUDIENCE, DEV_ISSUER, devAuthEnv, generateDevAuthKeys, mintDevToken } from '../../scripts/lib/dev-auth';
import { startPlatform, type Platform } from '../../scripts/lib/platform';
import { total } from '../../test/helpers/metrics';
import { TEMPLATE_DIR } from '../../test/helpers/platform';
import { startRedis, type TestRedis } from '../../test/helpers/redis';
import { parseJson, post } from '../lib/check';

/** The README's deep query: 50 users → their latest 10 orders → items → product. */
export const COMMERCE_QUERY = `query Deep { users(first: 50) { edges { node { id name orders(first: 10) { edges { node { id status total { formatted }
  items { quantity unitPrice { formatted } product { name price { formatted } } } } } } } } } }`;

/** Our commerce platform's subgraphs over embedded Postgres, for our gateway processes to route to. */
export interface CommerceWorkload {
  /** `SUBGRAPH_URLS` for a gateway process. */
  readonly subgraphUrls: string;
  /** `REDIS_URL` when the cache lives in Redis. */
  readonly redisUrl: string | undefined;
  /** A seeded user's ID: the principal of every request (its bearer token); the orders are private. */
  readonly principal: string;
  /** What a gateway process needs to verify client tokens and sign the subgraphs' identity (the platform's keys). */
  readonly gatewayEnv: Readonly<Record<string, string>>;
  /**
   * `Bearer <JWT>` of a user with the `admin` scope (the deep query lists every user and their orders).
   * Minted here with the platform's development secret, valid for a day.
   */
  authorization(userId: string): Promise<string>;
  /** The answer of the platform's own (in-process, uncached) gateway: the reference every target must equal. */
  readonly reference: { text: string; json: unknown };
  /** `count` distinct valid user IDs: a new principal per request, so every request misses the cache. */
  principals(count: number): string[];
  /** `db_statements_total` summed over the subgraphs. */
  statements(): Promise<number>;
  /** What the platform logged (warnings and errors only; counted, the last few kept), instead of flooding the output. */
  readonly logs: PlatformLogs;
  /** Stops the platform (gateway, subgraphs, Postgres) and Redis, and deletes the data. Idempotent. */
  stop(): Promise<void>;
}

export interface PlatformLogs {
  warnings: number;
  errors: number;
  /** The last few messages, `service: msg (err)`. */
  last: string[];
}

const KEEP_LAST = 5;

function logSink(logs: PlatformLogs): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        const entry = parseJson(line) as
          { level?: number; service?: string; msg?: string; err?: { message?: string } | string } | undefined;
        if ((entry?.level ?? 50) >= 50) logs.errors++;
        else logs.warnings++;
        const err = typeof entry?.err === 'string' ? entry.err : entry?.err?.message;
        logs.last = [
          ...logs.last,
          `${entry?.service ?? '?'}: ${entry?.msg ?? line.slice(0, 200)}${err ? ` (${err})` : ''}`,
        ].slice(-KEEP_LAST);
      }
      done();
    },
  });
}

/**
 * Starts the platform in this process from the test template cluster
 * (migrated and seeded; created on first use), with Redis if asked.
 */
export async function startCommerceWorkload(options: { redis: boolean }): Promise<CommerceWorkload> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-commerce-'));
  // Postgres runs as its own OS user and must be able to reach its data directory.
  await chmod(dataDir, 0o755);
  let redis: TestRedis | undefined;
  let platform: Platform | undefined;
  const logs: PlatformLogs = { warnings: 0, errors: 0, last: [] };
  const stopAll = async () => {
    await platform?.stop();
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  // Client tokens and the internal identity: the platform's subgraphs and every gateway process share these keys.
  const keys = generateDevAuthKeys();
  const authorization = async (userId: string) =>
    `Bearer ${await mintDevToken({ secret: keys.jwtSecret, user: userId, scopes: ['admin'], expiresInSeconds: 86_400 })}`;
  try {
    redis = options.redis ? await startRedis() : undefined;
    platform = await startPlatform({
      embedded: { dataDir, templateDir: TEMPLATE_DIR, fast: true },
      env: {
        LOG_LEVEL: 'warn',
        RESPONSE_CACHE: 'false',
        ...devAuthEnv(keys),
        ...(redis ? { REDIS_URL: redis.url } : {}),
      },
      logger: pino({ level: 'warn' }, logSink(logs)),
    });
    const gatewayUrl = platform.gateway.url;
    const first = await post(gatewayUrl, JSON.stringify({ query: '{ users(first: 1) { edges { node { id } } } }' }), {
      authorization: await authorization(encodeId('User', 1n)),
    });
    const principal = (
      parseJson(first.text) as { data?: { users?: { edges?: { node: { id: string } }[] } } } | undefined
    )?.data?.users?.edges?.[0]?.node.id;
    if (!principal) throw new Error(`the commerce platform has no users: ${first.text.slice(0, 300)}`);
    const received = await post(gatewayUrl, JSON.stringify({ query: COMMERCE_QUERY }), {
      authorization: await authorization(principal),
    });
    const json = parseJson(received.text) as { data?: unknown; errors?: unknown } | undefined;
    if (received.status !== 200 || !json?.data || json.errors)
      throw new Error(
        `the commerce reference answer is not a success: HTTP ${received.status} ${received.text.slice(0, 300)}`,
      );
    const subgraphs = platform.subgraphs;
    const base = decodeId('User', principal);
    let stopping: Promise<void> | undefined;
    return {
      subgraphUrls: Object.entries(subgraphs)
        .map(([name, s]) => `${name}=${s.url}`)
        .join(','),
      redisUrl: redis?.url,
      principal,
      gatewayEnv: {
        JWT_SECRET: keys.jwtSecret,
        JWT_ISSUER: DEV_ISSUER,
        JWT_AUDIENCE: DEV_AUDIENCE,
        INTERNAL_IDENTITY_PRIVATE_KEY: keys.internalPrivateKey,
      },
      authorization,
      reference: { text: received.text, json },
      // Sequence bits step by one: valid IDs of users that need not exist; a principal is only a cache scope here.
      principals: (count) => Array.from({ length: count }, (_, i) => encodeId('User', base + BigInt(i + 1))),
      statements: () =>
        total(
          Object.values(subgraphs).map((s) => s.url),
          'db_statements_total',
        ),
      logs,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
