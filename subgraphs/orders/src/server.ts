import { fileURLToPath } from 'node:url';
import type { SubgraphDefinition } from '@commerce/kit';
import { createOrdersLoaders, type OrdersLoaders } from './loaders';
import { resolvers } from './resolvers';

export const DEFAULT_PORT = 4003;

/** The orders subgraph: orders and `User.orders`. Built here, listened by index.ts or the launcher. */
export const ordersSubgraph: SubgraphDefinition<OrdersLoaders> = {
  name: 'orders',
  sdlPath: fileURLToPath(new URL('../../../schema/orders.graphql', import.meta.url)),
  resolvers,
  createLoaders: createOrdersLoaders,
};
