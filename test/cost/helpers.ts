import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { createGraphQLHttpHandler, createServiceMetrics, listen } from '@commerce/common';
import type { RunningGateway } from '@commerce/gateway';
import { silentLogger, tempDir } from '../gateway/helpers';
import { startVerifiedGateway } from '../helpers/verified-gateway';
import { postGraphQL, type GraphQLResponse } from '../helpers/graphql';

/** Federation 2.9 with the cost directives, for the SDLs of these tests. */
export const COST_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])';

export interface CostSubgraph {
  name: string;
  url: string;
  stop(): Promise<void>;
}

export interface SubgraphSpec {
  name: string;
  /** SDL without the link line. */
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
}

/** A federated subgraph on a free port (SDL may use `@cost` and `@listSize`). */
export async function startCostSubgraph({ name, typeDefs, resolvers }: SubgraphSpec): Promise<CostSubgraph> {
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(`${COST_LINK}\n${typeDefs}`), resolvers }]),
    logger: silentLogger,
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const handler = createGraphQLHttpHandler({
    apollo,
    metrics: createServiceMetrics(`test-${name}`, { defaults: false }),
    context: async () => ({}),
  });
  const listening = await listen(handler, { path: '/graphql', drainMs: 1000 });
  let stopping: Promise<void> | undefined;
  return {
    name,
    url: listening.url,
    stop() {
      stopping ??= listening.close().then(() => apollo.stop());
      return stopping;
    },
  };
}

/** Composes SDLs (without the link line) into supergraph SDL; throws on composition errors. */
export function composeCost(subgraphs: { name: string; url: string; typeDefs: string }[]): string {
  const result = composeServices(
    subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs: parse(`${COST_LINK}\n${typeDefs}`) })),
  );
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

type After = { after(fn: () => Promise<void>): void };

/** Starts the subgraphs, composes them into a supergraph file, and returns what a test needs to start gateways on it. */
export async function startCostSubgraphs(
  t: After,
  specs: SubgraphSpec[],
): Promise<{ supergraphPath: string; subgraphs: CostSubgraph[] }> {
  const subgraphs: CostSubgraph[] = [];
  for (const spec of specs) {
    const subgraph = await startCostSubgraph(spec);
    t.after(() => subgraph.stop());
    subgraphs.push(subgraph);
  }
  const dir = await tempDir();
  t.after(() => dir.remove());
  const supergraphPath = join(dir.path, 'supergraph.graphql');
  await writeFile(
    supergraphPath,
    composeCost(specs.map((s, i) => ({ name: s.name, url: subgraphs[i]!.url, typeDefs: s.typeDefs }))),
  );
  return { supergraphPath, subgraphs };
}

/** A gateway on a free port with a silent logger, stopped after the test. */
export async function startCostGateway(t: After, env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startVerifiedGateway(env);
  t.after(() => gateway.stop());
  return gateway;
}

export type Reply = GraphQLResponse;

/** POSTs a GraphQL request as JSON (test/helpers/graphql.ts). */
export function post(
  url: string,
  query: string,
  { variables, headers = {} }: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return postGraphQL(url, query, variables, headers);
}

/** Parses `"cost";r=12;t=3` into its parameters. */
export function params(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? '').split(';').slice(1)) {
    const [key, value] = part.split('=');
    if (key && value !== undefined) out[key.trim()] = Number(value);
  }
  return out;
}

/** `items` returns as many as asked (up to 100); `few` never more than 2; `costly` weighs 500; `page` requires `first`. */
export const SHOP: SubgraphSpec = {
  name: 'shop',
  typeDefs: /* GraphQL */ `
    type Item @key(fields: "id") {
      id: ID!
      name: String!
    }
    type Query {
      items(first: Int = 10): [Item!]! @listSize(slicingArguments: ["first"])
      few(first: Int = 10): [Item!]! @listSize(slicingArguments: ["first"])
      costly: Item @cost(weight: 500)
      page(first: Int): [Item!]! @listSize(slicingArguments: ["first"])
    }
  `,
  resolvers: {
    Query: {
      items: (_: unknown, { first }: { first: number }) =>
        Array.from({ length: Math.min(first, 100) }, (_, i) => ({ id: `i${i}`, name: `Item ${i}` })),
      few: (_: unknown, { first }: { first: number }) =>
        Array.from({ length: Math.min(first, 2) }, (_, i) => ({ id: `f${i}`, name: `Few ${i}` })),
      costly: () => ({ id: 'c', name: 'Costly' }),
      page: () => [],
    },
  },
};
