import { fileURLToPath } from 'node:url';
import type { SubgraphDefinition } from '@commerce/kit';
import { createUsersLoaders, type UsersLoaders } from './loaders';
import { resolvers } from './resolvers';

export const DEFAULT_PORT = 4001;

/** The users subgraph: accounts, `me`. Built here, listened by index.ts or the launcher. */
export const usersSubgraph: SubgraphDefinition<UsersLoaders> = {
  name: 'users',
  sdlPath: fileURLToPath(new URL('../../../schema/users.graphql', import.meta.url)),
  resolvers,
  createLoaders: createUsersLoaders,
};
