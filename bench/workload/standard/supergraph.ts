import { composeServices } from '@apollo/composition';
import { SUBGRAPH_NAMES, subgraphTypeDefs, type SubgraphName } from './subgraphs';

/** Composes the four Federation v1 subgraphs into a supergraph routed to `urls`; throws with every composition error. */
export function composeStandardSupergraph(urls: Readonly<Record<SubgraphName, string>>): string {
  const result = composeServices(
    SUBGRAPH_NAMES.map((name) => ({ name, typeDefs: subgraphTypeDefs(name), url: urls[name] })),
  );
  if (result.errors)
    throw new Error(
      `The standard workload does not compose:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`,
    );
  return result.supergraphSdl;
}
