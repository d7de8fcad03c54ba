import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { pino } from 'pino';
import { createGraphQLHttpHandler, createServiceMetrics, listen } from '@commerce/common';
import type { RunningGateway } from '@commerce/gateway';
import { scrape, sum } from '../helpers/metrics';
import { freePort } from '../helpers/ports';

import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { startVerifiedGateway } from '../helpers/verified-gateway';
import { CATALOG_SDL, FEDERATION_LINK, INVENTORY_SDL } from './fault-schema';

export { FEDERATION_LINK };

export const silentLogger = pino({ level: 'silent' });

/** What a test subgraph saw: one entry per HTTP request it served. */
export interface TestSubgraph {
  name: string;
  url: string;
  received: IncomingHttpHeaders[];
  stop(): Promise<void>;
}

/** A federated subgraph over node:http on a free port; `resolvers` receive `{ headers }` as context. */
export async function startSubgraph(
  name: string,
  typeDefs: string,
  resolvers: GraphQLResolverMap<{ headers: IncomingHttpHeaders }>,
): Promise<TestSubgraph> {
  const apollo = new ApolloServer<{ headers: IncomingHttpHeaders }>({
    schema: buildSubgraphSchema([{ typeDefs: parse(`${FEDERATION_LINK}\n${typeDefs}`), resolvers }]),
    logger: silentLogger,
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const received: IncomingHttpHeaders[] = [];
  const handler = createGraphQLHttpHandler({
    apollo,
    metrics: createServiceMetrics(`test-${name}`, { defaults: false }),
    context: async (req) => {
      received.push(req.headers);
      return { headers: req.headers };
    },
  });
  const listening = await listen(handler, { path: '/graphql', drainMs: 1000 });
  let stopping: Promise<void> | undefined;
  return {
    name,
    url: listening.url,
    received,
    stop() {
      stopping ??= listening.close().then(() => apollo.stop());
      return stopping;
    },
  };
}

/** Composes subgraph SDLs (without the federation link line) into supergraph SDL; throws on composition errors. */
export function compose(subgraphs: { name: string; url: string; typeDefs: string }[]): string {
  const result = composeServices(
    subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs: parse(`${FEDERATION_LINK}\n${typeDefs}`) })),
  );
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

/** A temporary directory removed by `t.after`-style cleanup. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'gateway-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

let writes = 0;

/** Replaces a file the way deploy tools do: write a sibling, then rename over it. */
/** Composes `subgraphs` into a supergraph file in a temporary folder removed after the test; returns its path. */
export async function writeSupergraph(
  t: { after(fn: () => Promise<void>): void },
  subgraphs: { name: string; url: string; typeDefs: string }[],
): Promise<string> {
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await replaceFile(path, compose(subgraphs));
  return path;
}

export async function replaceFile(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${writes++}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}

/** Starts a gateway on a free port, silent, its answers checked against Apollo's executor; `env` is added to the test defaults. */
export function startTestGateway(env: Record<string, string>): Promise<RunningGateway> {
  return startVerifiedGateway(env);
}

import { postGraphQL } from '../helpers/graphql';

export interface GraphQLResult {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

/** POSTs a GraphQL request as JSON (test/helpers/graphql.ts). */
export function graphql(url: string, query: string, headers: Record<string, string> = {}): Promise<GraphQLResult> {
  return postGraphQL(url, query, undefined, headers);
}

/** Sum of the samples of `name` on the gateway's `/metrics` whose labels include `labels`. */
export async function metric(gatewayUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sum(await scrape(gatewayUrl), name, labels);
}

export { waitFor } from '../helpers/wait';

/** A promise with its resolve function, for resolvers that wait until a test releases them. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** What the subgraph process saw since it (re)started. */
export interface SubgraphProcessStats {
  /** GraphQL POSTs received, dropped and failed ones included. */
  calls: number;
  inFlight: number;
  maxInFlight: number;
}

/** The `inventory` subgraph of fault-subgraph.ts as its own OS process, on a port that survives restarts. */
export interface SubgraphProcess {
  readonly url: string;
  readonly port: number;
  /** PID of the running process (of the latest start). */
  readonly pid: number | undefined;
  /** Its counters (fetched from `GET /stats`). */
  stats(): Promise<SubgraphProcessStats>;
  /** SIGKILL by PID, then wait for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`), with `env` changes; resolves once it listens. */
  restart(env?: Record<string, string>): Promise<void>;
  /** Kills it if running. Idempotent. */
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const subgraphProcesses = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of subgraphProcesses) child.kill('SIGKILL');
});

/** Starts fault-subgraph.ts (`DELAY_MS`, `FAIL_STATUS`, `DROP_FIRST` in `env`) on a free port. */
export async function startSubgraphProcess(env: Record<string, string> = {}): Promise<SubgraphProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  async function launch(extra: Record<string, string>): Promise<void> {
    // node itself (tsx as a loader), not the tsx CLI: a signal must reach the process that listens.
    const spawned = spawn(process.execPath, ['--import', 'tsx', 'test/gateway/fault-subgraph.ts'], {
      cwd: root,
      env: { ...process.env, ...env, ...extra, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    subgraphProcesses.add(spawned);
    exited = new Promise((resolve) => spawned.once('exit', () => (subgraphProcesses.delete(spawned), resolve())));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`subgraph process did not listen within 30 s: ${output}`)),
        30_000,
      );
      const onData = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-4000);
        if (output.includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      spawned.stdout!.on('data', onData);
      spawned.stderr!.on('data', onData);
      spawned.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`subgraph process exited with ${code}: ${output}`));
      });
    }).catch(async (error: unknown) => {
      spawned.kill('SIGKILL');
      await exited;
      throw error;
    });
  }
  await launch({});
  const base = `http://127.0.0.1:${port}`;
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `${base}/graphql`,
    port,
    get pid() {
      return child?.pid;
    },
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as SubgraphProcessStats,
    kill,
    restart: async (extra = {}) => {
      await kill();
      await launch(extra);
    },
    stop: kill,
  };
}

/**
 * The federation of the subgraph fault tests: `catalog` (hello, product) in
 * this process, `inventory` (stock) at `inventoryUrl` — usually a
 * {@link startSubgraphProcess} — and the gateway as its own OS process with `env`.
 */
export async function startFaultGateway(
  t: { after(fn: () => Promise<void>): void },
  inventoryUrl: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const catalog = await startSubgraph('catalog', CATALOG_SDL, {
    Query: { hello: () => 'world', product: () => ({ id: 'p1', name: 'Lamp' }) },
  });
  t.after(() => catalog.stop());
  const path = await writeSupergraph(t, [
    { name: 'catalog', url: catalog.url, typeDefs: CATALOG_SDL },
    { name: 'inventory', url: inventoryUrl, typeDefs: INVENTORY_SDL },
  ]);
  const gateway = await startGatewayProcess(
    { subgraphs: { catalog, inventory: { url: inventoryUrl } } },
    { SUPERGRAPH_PATH: path, ...env },
  );
  t.after(() => gateway.stop());
  return gateway;
}

/** A GraphQL request timed: its result and how long it took. */
export async function timedGraphql(url: string, query: string): Promise<GraphQLResult & { ms: number; at: number }> {
  const at = Date.now();
  const result = await graphql(url, query);
  return { ...result, ms: Date.now() - at, at };
}
