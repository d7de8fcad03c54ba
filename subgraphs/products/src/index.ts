import { runSubgraphMain } from '@commerce/kit';
import { DEFAULT_PORT, productsSubgraph } from './server';

void runSubgraphMain(productsSubgraph, DEFAULT_PORT);
