import { fileURLToPath } from 'node:url';
import type { SubgraphDefinition } from '@commerce/kit';
import { createProductsLoaders, type ProductsLoaders } from './loaders';
import { resolvers } from './resolvers';

export const DEFAULT_PORT = 4002;

/** The products subgraph: the catalogue. Built here, listened by index.ts or the launcher. */
export const productsSubgraph: SubgraphDefinition<ProductsLoaders> = {
  name: 'products',
  sdlPath: fileURLToPath(new URL('../../../schema/products.graphql', import.meta.url)),
  resolvers,
  createLoaders: createProductsLoaders,
};
