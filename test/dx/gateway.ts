import { join } from 'node:path';
import type { RunningGateway } from '@commerce/gateway';
import { compose, replaceFile, startSubgraph, startTestGateway, tempDir } from '../gateway/helpers';
import { postGraphQL } from '../helpers/graphql';
import { cleanupStack } from './cleanup';

const SDL = 'type Query { hello: String product: Product } type Product @key(fields: "id") { id: ID! name: String }';
const REVIEWS_SDL = 'type Product @key(fields: "id") { id: ID! reviews: [String!]! }';

/**
 * A gateway in front of two tiny subgraphs (`catalog`, `reviews`, joined on
 * Product), with `env` on top of the test defaults. Everything stops in `t.after`.
 */
export async function startTwoSubgraphGateway(
  t: { after(fn: () => Promise<void>): void },
  env: Record<string, string>,
): Promise<RunningGateway> {
  const defer = cleanupStack(t);
  const catalog = await startSubgraph('catalog', SDL, {
    Query: { hello: () => 'world', product: () => ({ id: 'p1', name: 'Kettle' }) },
  });
  defer(() => catalog.stop());
  const reviews = await startSubgraph('reviews', REVIEWS_SDL, {
    Product: { __resolveReference: (ref: { id: string }) => ref, reviews: () => ['great'] },
  });
  defer(() => reviews.stop());
  const dir = await tempDir();
  defer(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await replaceFile(
    path,
    compose([
      { name: 'catalog', url: catalog.url, typeDefs: SDL },
      { name: 'reviews', url: reviews.url, typeDefs: REVIEWS_SDL },
    ]),
  );
  const gateway = await startTestGateway({ SUPERGRAPH_PATH: path, ...env });
  defer(() => gateway.stop());
  return gateway;
}

/** A GraphQL response with its extensions. */
export interface DebuggableResult {
  status: number;
  body: {
    data?: any;
    errors?: Array<{ message: string; extensions?: Record<string, any> }>;
    extensions?: Record<string, any>;
  };
}

/** POSTs a query as JSON with extra headers (test/helpers/graphql.ts). */
export function post(url: string, query: string, headers: Record<string, string> = {}): Promise<DebuggableResult> {
  return postGraphQL(url, query, undefined, headers);
}
