/**
 * The differential federation harness (issue 14): small in-memory subgraphs
 * written with @apollo/subgraph, served by node:http on loopback, composed
 * into one supergraph file, and one gateway per executor mode
 * (`GATEWAY_EXECUTOR=apollo|compiled|verify`) in this process over that one
 * set of subgraphs. Every scenario is posted to each gateway in turn and the
 * answers must be the same bytes (see {@link assertSameAnswer}).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { graphql, parse, type GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { freePort } from '../../helpers/ports';
import { TEST_AUTH_ENV } from '../../helpers/tokens';

/** Every federation directive the fixtures use (importing one a subgraph does not use is harmless). */
const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ' +
  '["@key", "@shareable", "@external", "@requires", "@provides", "@interfaceObject", "@override"])';

/** How a fixture subgraph answers. */
export type SubgraphBehaviour =
  /** Executes every request against its schema (default). */
  | 'serve'
  /** Answers every request with HTTP 500 and a plain-text body. */
  | 'http-500'
  /** Nothing listens on its port: every fetch is refused. */
  | 'down';

/** One fixture subgraph: its SDL (without the federation `@link`) and resolvers over in-memory data. */
export interface SubgraphFixture {
  name: string;
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
  /** Default `serve`. */
  behaviour?: SubgraphBehaviour;
  /**
   * A hand-written answer in place of executing a request (a subgraph that does
   * not follow its own schema); `undefined` executes it as usual. Default none.
   */
  answer?: (request: SubgraphRequest) => unknown;
}

/** A GraphQL request as a subgraph receives it. */
export interface SubgraphRequest {
  query: string;
  variables?: Record<string, any>;
  operationName?: string;
}

/** A JSON body of a GraphQL response, parsed. */
export interface ResponseBody {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; path?: (string | number)[]; extensions?: Record<string, any> }>;
  extensions?: Record<string, any>;
}

/** One request of the differential suite, with what its answer must say. */
export interface Scenario {
  /** The behaviour it shows (the test's name). */
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /**
   * The plan fetches in parallel and more than one fetch fails: Apollo appends
   * errors in arrival order, so the errors are compared as a set. Default false.
   */
  errorsInAnyOrder?: boolean;
  /** Default 200. */
  status?: number;
  /** Asserts something concrete about the (apollo executor's) answer: the data, the error paths. */
  check(body: ResponseBody): void;
}

/** A theme's fixtures: the subgraphs it composes and the scenarios it runs over them. */
export interface Theme {
  subgraphs: readonly SubgraphFixture[];
  scenarios: readonly Scenario[];
}

export type ExecutorMode = 'apollo' | 'compiled' | 'verify';

/** A gateway of the federation and the log lines (parsed JSON) it wrote. */
export interface ModeGateway {
  readonly mode: ExecutorMode;
  readonly url: string;
  readonly logs: Array<Record<string, unknown>>;
}

/** What {@link startFederation} started. */
export interface Federation {
  readonly gateways: Readonly<Partial<Record<ExecutorMode, ModeGateway>>>;
  /** GraphQL requests each subgraph received, by name. */
  readonly fetches: Readonly<Record<string, number>>;
  /** Stops the gateways, then the subgraphs, then removes the supergraph file. Idempotent. */
  stop(): Promise<void>;
}

/** An answer as the client sees it: the status and the body's exact bytes. */
export interface RawAnswer {
  status: number;
  text: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
    request.on('error', reject);
  });
}

function listenOn(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Serves `fixture` on a free loopback port (or reserves one nobody listens on, for `down`). */
async function startSubgraph(
  fixture: SubgraphFixture,
  fetches: Record<string, number>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const behaviour = fixture.behaviour ?? 'serve';
  fetches[fixture.name] = 0;
  if (behaviour === 'down') return { url: `http://127.0.0.1:${await freePort()}/graphql`, stop: async () => undefined };
  const schema: GraphQLSchema = buildSubgraphSchema([
    { typeDefs: parse(`${FEDERATION_LINK}\n${fixture.typeDefs}`), resolvers: fixture.resolvers },
  ]);
  const server = createServer((request, response) => {
    void (async () => {
      const text = await readBody(request);
      fetches[fixture.name] += 1;
      if (behaviour === 'http-500') {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${fixture.name} is failing`);
        return;
      }
      const { query, variables, operationName } = JSON.parse(text) as SubgraphRequest;
      const result =
        fixture.answer?.({ query, variables, operationName }) ??
        (await graphql({ schema, source: query, variableValues: variables, operationName }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    })().catch((error: Error) => {
      response.writeHead(400, { 'content-type': 'text/plain' }).end(error.message);
    });
  });
  const port = await listenOn(server);
  return { url: `http://127.0.0.1:${port}/graphql`, stop: () => closeServer(server) };
}

/** Composes the fixtures (at their URLs) into supergraph SDL; throws with composition's messages. */
export function composeFixtures(subgraphs: ReadonlyArray<{ fixture: SubgraphFixture; url: string }>): string {
  const result = composeServices(
    subgraphs.map(({ fixture, url }) => ({
      name: fixture.name,
      url,
      typeDefs: parse(`${FEDERATION_LINK}\n${fixture.typeDefs}`),
    })),
  );
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.supergraphSdl;
}

function logSink(logs: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
}

/**
 * Starts the subgraphs of `themes` once, composes them into a supergraph file
 * and starts one in-process gateway per mode over it: loopback, `NODE_ENV`
 * unset, no response cache, cost off, no retries and a breaker that never
 * opens (so every gateway sees every failure the same way).
 */
export async function startFederation(options: {
  themes: readonly Theme[];
  executors: readonly ExecutorMode[];
}): Promise<Federation> {
  const stack: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const step of stack.reverse().splice(0)) await step().catch(() => undefined);
    })());
  const fetches: Record<string, number> = {};
  try {
    const started: Array<{ fixture: SubgraphFixture; url: string }> = [];
    // Themes may share subgraphs (operations.ts runs over entities.ts's): each is started once.
    for (const fixture of new Set(options.themes.flatMap((theme) => theme.subgraphs))) {
      const subgraph = await startSubgraph(fixture, fetches);
      stack.push(() => subgraph.stop());
      started.push({ fixture, url: subgraph.url });
    }
    const dir = await mkdtemp(join(tmpdir(), 'executor-federation-'));
    stack.push(() => rm(dir, { recursive: true, force: true }));
    const supergraphPath = join(dir, 'supergraph.graphql');
    await writeFile(supergraphPath, composeFixtures(started));

    const gateways: Partial<Record<ExecutorMode, ModeGateway>> = {};
    for (const mode of options.executors) {
      const logs: Array<Record<string, unknown>> = [];
      const running: RunningGateway = await startGateway(
        loadGatewayConfig({
          ...TEST_AUTH_ENV,
          PORT: '0',
          HOST: '127.0.0.1',
          SUPERGRAPH_PATH: supergraphPath,
          GATEWAY_EXECUTOR: mode,
          RESPONSE_CACHE: 'false',
          COST_MODE: 'off',
          SUBGRAPH_RETRIES: '0',
          SUBGRAPH_BREAKER_FAILURES: '10000',
          SUBGRAPH_TIMEOUT_MS: '5000',
        }),
        { logger: pino({ level: 'info' }, logSink(logs)) },
      );
      stack.push(() => running.stop());
      gateways[mode] = { mode, url: running.url, logs };
    }
    return { gateways, fetches, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Posts `scenario` to `url` and keeps the exact bytes of the answer. */
export async function post(url: string, scenario: Scenario): Promise<RawAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: scenario.query,
      ...(scenario.variables ? { variables: scenario.variables } : {}),
      ...(scenario.operationName ? { operationName: scenario.operationName } : {}),
    }),
  });
  return { status: response.status, text: await response.text() };
}

/**
 * The body as compared: outside production the gateway puts each error's stack
 * trace in `extensions.stacktrace`, which names the executor's own frames and
 * so always differs; it is replaced by a marker (its presence still counts).
 * With `sortErrors` the errors are put in one canonical order.
 */
export function comparable(text: string, sortErrors: boolean): string {
  const body = JSON.parse(text) as ResponseBody;
  for (const error of body.errors ?? [])
    if (error.extensions && 'stacktrace' in error.extensions) error.extensions.stacktrace = '(stack trace)';
  if (body.errors && sortErrors)
    body.errors = [...body.errors].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return JSON.stringify(body) + (text.endsWith('\n') ? '\n' : '');
}

/**
 * Posts `scenario` to the apollo gateway, then the compiled one (one after the
 * other, so stateful fixtures see the same sequence), asserts the same status
 * and the same body bytes — stack traces aside ({@link comparable}), and with
 * errors as a set only when the scenario says its failing fetches run in
 * parallel — then runs the scenario's own check on the answer. Returns both answers.
 */
export async function assertSameAnswer(federation: Federation, scenario: Scenario): Promise<[RawAnswer, RawAnswer]> {
  const { apollo, compiled } = federation.gateways;
  assert.ok(apollo && compiled, 'the federation runs an apollo and a compiled gateway');
  const expected = await post(apollo.url, scenario);
  const actual = await post(compiled.url, scenario);
  assert.equal(actual.status, expected.status, `status (compiled ${actual.status}, apollo ${expected.status})`);
  const sortErrors = scenario.errorsInAnyOrder ?? false;
  assert.equal(
    comparable(actual.text, sortErrors),
    comparable(expected.text, sortErrors),
    `body bytes, compiled (actual) vs apollo (expected)${sortErrors ? ', errors in any order' : ''}`,
  );
  assert.equal(expected.status, scenario.status ?? 200, `status of ${expected.text}`);
  scenario.check(JSON.parse(expected.text) as ResponseBody);
  return [expected, actual];
}

/** A check: the answer is exactly `{ data }` (no errors). */
export function exactly(data: Record<string, unknown>): (body: ResponseBody) => void {
  return (body) => assert.deepEqual(body, { data });
}

/** The error paths of an answer, sorted (for checks that do not depend on arrival order). */
export function errorPaths(body: ResponseBody): string[] {
  return (body.errors ?? []).map((error) => JSON.stringify(error.path ?? null)).sort();
}

/**
 * The differential suite of one theme: starts its subgraphs with an apollo and
 * a compiled gateway before the tests, one test per scenario
 * ({@link assertSameAnswer}), everything stopped after.
 */
export function differentialSuite(theme: Theme): void {
  let federation: Federation | undefined;
  before(async () => {
    federation = await startFederation({ themes: [theme], executors: ['apollo', 'compiled'] });
  });
  after(() => federation?.stop());
  for (const scenario of theme.scenarios)
    test(`compiled and apollo executors agree: ${scenario.name}`, async () => {
      assert.ok(federation, 'the federation started');
      await assertSameAnswer(federation, scenario);
    });
}
