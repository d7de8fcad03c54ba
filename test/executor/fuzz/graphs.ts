/**
 * The graphs the executor fuzzing runs over, each with two gateways on
 * the same subgraphs that differ only in `GATEWAY_EXECUTOR`: the standard
 * workload (bench/workload/standard), the commerce platform
 * (test/helpers/platform.ts) and the federation scenarios' fixtures
 * (test/executor/scenarios). Response cache and cost analysis are off on
 * both gateways (an answer from the cache would not exercise the executor; a
 * cost refusal would hide the operation), everything else is the default.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { encodeId } from '@commerce/kit';
import { startStandardSubgraphs } from '../../../bench/workload/standard/server';
import { composeStandardSupergraph } from '../../../bench/workload/standard/supergraph';
import { apiSchemaOf } from '../../../scripts/lib/persisted-manifest';
import { withEnforcedSecurity } from '../../../gateway/src/features/authorization/rules';
import { silentLogger, startTestGateway, tempDir } from '../../gateway/helpers';
import { startTestPlatform } from '../../helpers/platform';
import { abstractTypes } from '../scenarios/abstract-types';
import { edgeCases } from '../scenarios/edge-cases';
import { entities } from '../scenarios/entities';
import { failures } from '../scenarios/failures';
import { composeFixtures, startFederation, type ExecutorMode } from '../scenarios/harness';
import { ADMIN_USER_ID, TEST_AUTH_ENV, adminHeaders, asUser } from '../../helpers/tokens';
import type { FieldHint } from './generate';

/** Who sends an operation: a share of the operations and the headers they carry. */
export interface Caller {
  readonly name: string;
  /** Relative share of the operations. */
  readonly weight: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A graph with its two gateways, ready to fuzz. */
export interface FuzzGraph {
  readonly name: GraphName;
  /** The API schema clients see. */
  readonly schema: GraphQLSchema;
  /** The supergraph as the gateways plan with it (for the error-order rule, compare.ts). */
  readonly supergraphSdl: string;
  readonly fields: Readonly<Record<string, FieldHint>>;
  readonly callers: readonly Caller[];
  /** Executor → its gateway's GraphQL URL, in the order given. */
  readonly gateways: ReadonlyArray<{ readonly executor: string; readonly url: string }>;
  /** Stops everything started for the graph. Idempotent. */
  stop(): Promise<void>;
}

export const GRAPH_NAMES = ['standard', 'commerce', 'scenarios'] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

/** Options of {@link startFuzzGraph}. */
export interface FuzzGraphOptions {
  /** `GATEWAY_EXECUTOR` of the two gateways. Default `['apollo', 'compiled']`. */
  readonly executors?: readonly [string, string];
}

/**
 * Introspection that graphql-js 16.15 validates but @apollo/federation-internals'
 * introspection schema does not know: both gateways answer it with a 500
 * ("Cannot query field isOneOf on type __Type"), whatever the executor, so
 * sending it only wastes operations.
 */
const INTROSPECTION_HINTS: Readonly<Record<string, FieldHint>> = {
  '__Type.isOneOf': { exclude: true },
  '__Directive.isDeprecated': { exclude: true },
  '__Directive.deprecationReason': { exclude: true },
  '__Schema.directives': { args: { includeDeprecated: { values: [], omitProbability: 1 } } },
};

/** The gateway settings both sides share. */
const GATEWAY_ENV = { RESPONSE_CACHE: 'false', COST_MODE: 'off' } as const;

/** A teardown list run in reverse, each step attempted even when one fails. */
function teardown(): { defer(stop: () => Promise<void>): void; run(): Promise<void> } {
  const steps: Array<() => Promise<void>> = [];
  let running: Promise<void> | undefined;
  return {
    defer: (stop) => void steps.push(stop),
    run: () =>
      (running ??= (async () => {
        const failures: unknown[] = [];
        for (const stop of steps.reverse()) await stop().catch((error: unknown) => failures.push(error));
        if (failures.length > 0) throw new AggregateError(failures, 'stopping the fuzz graph failed');
      })()),
  };
}

/**
 * The standard workload's four subgraphs (fixed data, Federation v1 SDL with
 * `@requires` and `@provides`) and two in-process gateways. No field is
 * excluded: every answer is a pure function of the request.
 */
async function startStandard(executors: readonly [string, string]): Promise<FuzzGraph> {
  const stack = teardown();
  try {
    const subgraphs = await startStandardSubgraphs();
    stack.defer(() => subgraphs.stop());
    const dir = await tempDir();
    stack.defer(() => dir.remove());
    const supergraphSdl = composeStandardSupergraph(subgraphs.urls);
    const path = join(dir.path, 'supergraph.graphql');
    await writeFile(path, supergraphSdl);
    const gateways = [];
    for (const executor of executors) {
      const gateway = await startTestGateway({ SUPERGRAPH_PATH: path, ...GATEWAY_ENV, GATEWAY_EXECUTOR: executor });
      stack.defer(() => gateway.stop());
      gateways.push({ executor, url: gateway.url });
    }
    return {
      name: 'standard',
      schema: apiSchemaOf(supergraphSdl),
      supergraphSdl,
      fields: {
        ...INTROSPECTION_HINTS,
        // Users 1-6 exist; 7 does not (null).
        'Query.user': { args: { id: { values: ['1', '2', '3', '5', '6', '7'] } } },
        // Nine products; 0 and past the end are answers too.
        'Query.topProducts': { args: { first: { values: [0, 1, 2, 3, 5, 12], omitProbability: 0.3 } } },
      },
      callers: [{ name: 'anonymous', weight: 1, headers: {} }],
      gateways,
      stop: () => stack.run(),
    };
  } catch (error) {
    await stack.run().catch(() => undefined);
    throw error;
  }
}

interface Seeded {
  users: {
    edges: Array<{
      node: { id: string; orders: { edges: Array<{ node: { id: string } }>; pageInfo: { endCursor: string | null } } };
    }>;
    pageInfo: { endCursor: string | null };
  };
  products: { edges: Array<{ node: { id: string; category: string } }>; pageInfo: { endCursor: string | null } };
}

/** IDs, categories and cursors of the seeded data, read as the admin, so arguments find data. */
async function seededValues(url: string): Promise<Seeded> {
  const query = `{
    users(first: 6) { edges { node { id orders(first: 2) { edges { node { id } } pageInfo { endCursor } } } } pageInfo { endCursor } }
    products(first: 12) { edges { node { id category } } pageInfo { endCursor } }
  }`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await adminHeaders()) },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: Seeded; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`reading the seeded data failed: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * The commerce platform (sharded Postgres with replicas, users, products,
 * orders) with its own gateway, plus a second in-process gateway on the same
 * subgraphs and environment. Operations are queries only (a mutation would
 * change the data between the two sends); no field is excluded: with no
 * writes, every field reads the same rows twice.
 */
async function startCommerce(executors: readonly [string, string]): Promise<FuzzGraph> {
  const stack = teardown();
  try {
    const [first, second] = executors;
    const platform = await startTestPlatform({ ...GATEWAY_ENV, GATEWAY_EXECUTOR: first });
    stack.defer(() => platform.stop());
    const subgraphUrls = Object.entries(platform.subgraphs)
      .map(([name, running]) => `${name}=${running.url}`)
      .join(',');
    // The platform's gateway environment (scripts/lib/platform.ts), with the other executor.
    const other: RunningGateway = await startGateway(
      loadGatewayConfig({
        ...TEST_AUTH_ENV,
        ...GATEWAY_ENV,
        GATEWAY_EXECUTOR: second,
        PORT: '0',
        HOST: '127.0.0.1',
        SUBGRAPH_URLS: subgraphUrls,
      }),
      { logger: silentLogger },
    );
    stack.defer(() => other.stop());
    const seeded = await seededValues(platform.gateway.url);
    const users = seeded.users.edges.map((e) => e.node);
    const orders = users.flatMap((u) => u.orders.edges.map((e) => e.node.id));
    const products = seeded.products.edges.map((e) => e.node);
    const cursor = (c: string | null) => (c === null ? [] : [c]);
    const missing = (type: 'User' | 'Product' | 'Order') => encodeId(type, 9_000_000_000n);
    const supergraphSdl = withEnforcedSecurity(await readFile('schema/supergraph.graphql', 'utf8'));
    const first3 = { values: [0, 1, 2, 3], omitProbability: 0.1 };
    return {
      name: 'commerce',
      schema: apiSchemaOf(supergraphSdl),
      supergraphSdl,
      fields: {
        ...INTROSPECTION_HINTS,
        'Query.user': { args: { id: { values: [...users.slice(0, 4).map((u) => u.id), missing('User')] } } },
        'Query.product': { args: { id: { values: [...products.slice(0, 5).map((p) => p.id), missing('Product')] } } },
        'Query.order': { args: { id: { values: [...orders.slice(0, 5), missing('Order')] } } },
        'Query.users': { args: { first: first3, after: { values: cursor(seeded.users.pageInfo.endCursor) } } },
        'Query.products': {
          args: {
            first: { values: [0, 1, 2, 4], omitProbability: 0.1 },
            after: { values: cursor(seeded.products.pageInfo.endCursor) },
            category: { values: [...new Set(products.map((p) => p.category))].slice(0, 3).concat('none-such') },
          },
        },
        'User.orders': {
          args: {
            first: first3,
            after: { values: users.flatMap((u) => cursor(u.orders.pageInfo.endCursor)).slice(0, 2) },
          },
        },
      },
      callers: [
        // The admin reads every field; a user reads only their own private fields; anonymous callers none.
        { name: 'admin', weight: 6, headers: await adminHeaders() },
        {
          name: 'user',
          weight: 2,
          headers: await asUser(users.find((u) => u.id !== ADMIN_USER_ID)?.id ?? users[1]!.id),
        },
        { name: 'anonymous', weight: 2, headers: {} },
      ],
      gateways: [
        { executor: first, url: platform.gateway.url },
        { executor: second, url: other.url },
      ],
      stop: () => stack.run(),
    };
  } catch (error) {
    await stack.run().catch(() => undefined);
    throw error;
  }
}

/** The differential federation scenarios' subgraphs (test/executor/scenarios), all themes but the mutations'. */
const SCENARIO_THEMES = [entities, abstractTypes, failures, edgeCases];

/**
 * The federation scenarios' in-memory subgraphs (test/executor/scenarios):
 * interfaces and a union across subgraphs, `@interfaceObject`, nested and
 * composite keys, `@requires`, `@provides`, `@shareable`, lists of lists,
 * custom scalars, subgraphs that fail (HTTP 500, down, errors for some
 * entities) and JSON edge cases. The only graph here with abstract types.
 * Its harness starts one gateway per executor, so the two must differ.
 */
async function startScenarios(executors: readonly [string, string]): Promise<FuzzGraph> {
  const [first, second] = executors as [ExecutorMode, ExecutorMode];
  if (first === second) throw new Error('the scenarios graph runs one gateway per executor: name two different ones');
  const federation = await startFederation({ themes: SCENARIO_THEMES, executors: [first, second] });
  try {
    // Planning does not look at routing URLs: the fixtures composed at any URL give the gateways' plans.
    const fixtures = [...new Set(SCENARIO_THEMES.flatMap((theme) => theme.subgraphs))];
    const supergraphSdl = composeFixtures(fixtures.map((fixture) => ({ fixture, url: 'http://127.0.0.1:9/' })));
    return {
      name: 'scenarios',
      schema: apiSchemaOf(supergraphSdl),
      supergraphSdl,
      fields: {
        ...INTROSPECTION_HINTS,
        // m4 is rated but its media subgraph fails it; m9, u9, p9, s9, g9 do not exist.
        'Query.mediaItem': { args: { id: { values: ['m1', 'm2', 'm3', 'm4', 'm9'] } } },
        'Query.topRated': { args: { first: { values: [0, 1, 2, 4] } } },
        'Query.search': { args: { term: { values: ['everything', 'everything', 'nothing'] } } },
        'Query.nodes': { args: { ids: { values: [['m1', 'h1', 'c1'], ['m3', 'x9'], []] } } },
        'Query.user': { args: { id: { values: ['u1', 'u2', 'u3', 'u9'] } } },
        'Query.product': { args: { upc: { values: ['p1', 'p2', 'p3', 'p9'] } } },
        'Query.topProducts': { args: { first: { values: [0, 1, 2, 3] } } },
        'Query.store': { args: { id: { values: ['s1', 's2', 's3', 's4', 's9'] } } },
        'Query.gadget': { args: { id: { values: ['g1', 'g2', 'g3', 'g9'] } } },
        'Query.echo': { args: { value: { values: ['x', 3, true, null] } } },
      },
      callers: [{ name: 'anonymous', weight: 1, headers: {} }],
      gateways: [first, second].map((executor) => ({ executor, url: federation.gateways[executor]!.url })),
      stop: () => federation.stop(),
    };
  } catch (error) {
    await federation.stop();
    throw error;
  }
}

/** Starts `name` with two gateways (executors `options.executors`). Stop it in a finally/after hook. */
export function startFuzzGraph(name: GraphName, options: FuzzGraphOptions = {}): Promise<FuzzGraph> {
  const executors = options.executors ?? ['apollo', 'compiled'];
  if (name === 'standard') return startStandard(executors);
  return name === 'commerce' ? startCommerce(executors) : startScenarios(executors);
}
