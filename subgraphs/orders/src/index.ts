import { runSubgraphMain } from '@commerce/kit';
import { DEFAULT_PORT, ordersSubgraph } from './server';

void runSubgraphMain(ordersSubgraph, DEFAULT_PORT);
