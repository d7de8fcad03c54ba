import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startPlatform, type Platform, type SubgraphName } from '../../scripts/lib/platform';
import { postGraphQL, type GraphQLResponse } from './graphql';
import { total } from './metrics';
import * as wait from './wait';

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
 * cluster (2 shards × primary + replica). Stop it in an after-hook.
 */
export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-test-'));
  // Postgres runs as its own OS user and must be able to reach its data directory.
  await chmod(dataDir, 0o755);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  let platform: Platform;
  try {
    platform = await startPlatform({
      embedded: { dataDir, templateDir: TEMPLATE_DIR, fast: true },
      env: { REPLICA_CHECK_INTERVAL_MS: '100', ...env },
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

/** The old argument order of the tests' one `waitFor` (test/helpers/wait.ts), kept for test/deploy. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await wait.waitFor(what, check, timeoutMs);
}
