import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from '@apollo/federation-internals';
import {
  Kind,
  Source,
  parse,
  print,
  validate,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';

export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

export type BuildResult = { ok: true; manifest: PersistedQueryManifest } | { ok: false; errors: string[] };

/** The client-facing (API) schema of a supergraph SDL (its authorization specs, enforced by the gateway, accepted). */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES })
    .apiSchema()
    .toGraphQLJSSchema();
}

function graphqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? graphqlFiles(join(dir, entry.name))
        : entry.name.endsWith('.graphql')
          ? [join(dir, entry.name)]
          : [],
    )
    .sort();
}

/** The fragments an operation uses, transitively, in name order. */
function usedFragments(
  node: OperationDefinitionNode | FragmentDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FragmentDefinitionNode[] {
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) return;
      seen.add(name);
      usedFragments(fragment, fragments, seen);
    },
  });
  return [...seen].sort().map((name) => fragments.get(name)!);
}

/**
 * Builds an Apollo persisted-query manifest from the `.graphql` files of a
 * client folder: one entry per named operation, its body the operation plus
 * the fragments it uses, its id the sha256 of that body. Every operation is
 * validated against the supergraph's API schema; any problem fails the build.
 */
export function buildManifestFromFolder(folder: string, schema: GraphQLSchema): BuildResult {
  const errors: string[] = [];
  const operations: { node: OperationDefinitionNode; file: string }[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const file of graphqlFiles(folder)) {
    const where = relative(process.cwd(), file);
    let document: DocumentNode;
    try {
      document = parse(new Source(readFileSync(file, 'utf8'), where));
    } catch (error) {
      errors.push(`${where}: ${(error as Error).message}`);
      continue;
    }
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(definition.name.value))
          errors.push(`${where}: fragment ${definition.name.value} is defined twice`);
        fragments.set(definition.name.value, definition);
      } else if (definition.kind === Kind.OPERATION_DEFINITION) {
        if (!definition.name)
          errors.push(`${where}:${definition.loc?.startToken.line}: operations must be named to be persisted`);
        else operations.push({ node: definition, file: where });
      }
    }
  }
  const names = new Set<string>();
  const manifest: ManifestOperation[] = [];
  for (const { node, file } of operations) {
    const name = node.name!.value;
    if (names.has(name)) errors.push(`${file}: operation ${name} is defined twice`);
    names.add(name);
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [node, ...usedFragments(node, fragments)] };
    for (const error of validate(schema, document)) {
      const at = error.locations?.[0];
      errors.push(`${file}: operation ${name}: ${error.message}${at ? ` (line ${at.line}, column ${at.column})` : ''}`);
    }
    const body = print(document);
    manifest.push({ id: createHash('sha256').update(body).digest('hex'), name, type: node.operation, body });
  }
  if (errors.length) return { ok: false, errors };
  manifest.sort((a, b) => a.name.localeCompare(b.name));
  return { ok: true, manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations: manifest } };
}
