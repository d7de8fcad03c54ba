import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SubgraphDefinition } from '@commerce/kit';
import { readSupergraphConfig } from './composition';

/** The repository root (this file is scripts/lib/subgraphs.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `schema/supergraph.yaml`: the list of subgraphs. */
export const SUPERGRAPH_CONFIG = join(REPO_ROOT, 'schema', 'supergraph.yaml');

/** Where a subgraph of this repository keeps its definition, by convention. */
export function subgraphServerPath(name: string, root = REPO_ROOT): string {
  return join(root, 'subgraphs', name, 'src', 'server.ts');
}

/** The variable that sets a subgraph's port in `npm start`: `USERS_PORT`, `GIFT_CARDS_PORT`… */
export function portVariable(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_PORT`;
}

/** A subgraph of `supergraph.yaml` that this repository implements. */
export interface LocalSubgraph {
  readonly name: string;
  // Loader types differ per subgraph; startSubgraph is generic over them.
  readonly definition: SubgraphDefinition<unknown>;
  /** `DEFAULT_PORT` of its server.ts (its standalone port), else 0 (any free port). */
  readonly defaultPort: number;
}

/** What discovery found: subgraphs to start here, and those served elsewhere (their routing_url). */
export interface DiscoveredSubgraphs {
  readonly local: readonly LocalSubgraph[];
  /** Listed in supergraph.yaml without `subgraphs/<name>/src/server.ts`. */
  readonly external: readonly { readonly name: string; readonly url: string }[];
}

function isDefinition(value: unknown, name: string): value is SubgraphDefinition<unknown> {
  const candidate = value as Partial<SubgraphDefinition<unknown>> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.name === name &&
    typeof candidate.sdlPath === 'string' &&
    typeof candidate.createLoaders === 'function' &&
    typeof candidate.resolvers === 'object'
  );
}

/**
 * The subgraphs to run, from `supergraph.yaml` (the one list of subgraphs)
 * and the `subgraphs/<name>/src/server.ts` convention: that module exports a
 * `SubgraphDefinition` whose `name` is the subgraph's (any export name) and
 * may export `DEFAULT_PORT`. So a subgraph added with `npm run subgraph:new`
 * starts with `npm start` and in the test platform without editing a list.
 */
export async function discoverSubgraphs({
  configPath = SUPERGRAPH_CONFIG,
  root = REPO_ROOT,
}: { configPath?: string; root?: string } = {}): Promise<DiscoveredSubgraphs> {
  const local: LocalSubgraph[] = [];
  const external: { name: string; url: string }[] = [];
  for (const entry of readSupergraphConfig(configPath)) {
    const path = subgraphServerPath(entry.name, root);
    if (!existsSync(path)) {
      external.push({ name: entry.name, url: entry.url });
      continue;
    }
    const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const definition = Object.values(module).find((value) => isDefinition(value, entry.name));
    if (!definition)
      throw new Error(
        `${path} exports no SubgraphDefinition named ${JSON.stringify(entry.name)} (the name in ${configPath})`,
      );
    const port = module.DEFAULT_PORT;
    local.push({
      name: entry.name,
      definition,
      defaultPort: typeof port === 'number' && Number.isInteger(port) ? port : 0,
    });
  }
  return { local, external };
}
