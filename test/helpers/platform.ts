import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startPlatform, type Platform, type SubgraphName } from '../../scripts/lib/platform';
import { postGraphQL, type GraphQLResponse } from './graphql';
import { total } from './metrics';
import { TEST_AUTH_ENV } from './tokens';
import { assertNoExecutorMismatch, jsonLines } from './executor-mismatch';

/** Where the migrated + seeded template cluster is kept between test files and runs. */
export const TEMPLATE_DIR = process.env.TEST_PG_TEMPLATE_DIR ?? join(tmpdir(), 'commerce-test-template');

export type { GraphQLResponse } from './graphql';
export { postGraphQL };

export interface TestPlatform extends Platform {
  /** Log lines (parsed JSON) the services wrote. */
  logs: Array<Record<string, unknown>>;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse>;
  /** Sum of a metric over the given subgraphs' /metrics (default: all three). */
  metric(name: string, filter?: Record<string, string>, services?: SubgraphName[]): Promise<number>;
}

/**
 * The whole platform on free ports over a fresh copy of the seeded template
 * cluster (2 shards × primary + replica), configured with the test keys
 * (tokens.ts: `asUser(userId)` headers are accepted). Stop it in an after-hook.
 */
export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-test-'));
  // Postgres runs as its own OS user and must be able to reach its data directory.
  await chmod(dataDir, 0o755);
  const logs: Array<Record<string, unknown>> = [];
  const read = jsonLines((line) => logs.push(line));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      read(chunk);
      done();
    },
  });
  let platform: Platform;
  try {
    platform = await startPlatform({
      embedded: { dataDir, templateDir: TEMPLATE_DIR, fast: true },
      // Client tokens (test/helpers/tokens.ts) and the internal identity keys for both ends.
      // Every answer of every suite is checked against @apollo/gateway's executor (see stop()).
      env: { REPLICA_CHECK_INTERVAL_MS: '100', GATEWAY_EXECUTOR: 'verify', ...TEST_AUTH_ENV, ...env },
      logger: pino({ level: 'info' }, sink),
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const stop = platform.stop;
  return Object.assign(platform, {
    logs,
    async stop() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
      assertNoExecutorMismatch(logs);
    },
    gql(
      query: string,
      variables?: Record<string, unknown>,
      headers: Record<string, string> = {},
    ): Promise<GraphQLResponse> {
      return postGraphQL(platform.gateway.url, query, variables, headers);
    },
    metric(
      name: string,
      filter: Record<string, string> = {},
      services: SubgraphName[] = ['users', 'products', 'orders'],
    ) {
      return total(
        services.map((s) => platform.subgraphs[s].url),
        name,
        filter,
      );
    },
  });
}
