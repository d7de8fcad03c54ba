import { runSubgraphMain } from '@commerce/kit';
import { DEFAULT_PORT, usersSubgraph } from './server';

void runSubgraphMain(usersSubgraph, DEFAULT_PORT);
