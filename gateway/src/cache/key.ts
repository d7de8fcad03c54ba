import { createHash, randomUUID } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import type { GraphQLSchema } from 'graphql';

/** Who may read an entry: everyone, or one principal. */
export type CacheScope = { kind: 'PUBLIC' } | { kind: 'PRIVATE'; principal: string };

// A new schema (a supergraph reload) gets a new id, so entries shaped by an
// older schema are never served for it.
const schemaIds = new WeakMap<GraphQLSchema, string>();

function schemaId(schema: GraphQLSchema): string {
  let id = schemaIds.get(schema);
  if (!id) schemaIds.set(schema, (id = randomUUID()));
  return id;
}

export interface CacheKeyInput {
  schema: GraphQLSchema;
  /** sha256 of the document (Apollo's `queryHash`, also for persisted queries). */
  queryHash: string;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | undefined;
}

/** The entry key: hash of (schema, document, operation, canonical variables, scope). */
export function cacheKey(input: CacheKeyInput, scope: CacheScope): string {
  return createHash('sha256')
    .update(schemaId(input.schema))
    .update('\0')
    .update(input.queryHash)
    .update('\0')
    .update(input.operationName ?? '')
    .update('\0')
    .update(stableStringify(input.variables ?? {}))
    .update('\0')
    .update(scope.kind === 'PUBLIC' ? 'public' : `private:${scope.principal}`)
    .digest('hex');
}
