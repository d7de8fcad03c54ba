import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import { printSchema, type GraphQLSchema } from 'graphql';

/** Who may read an entry: everyone, or one principal. */
export type CacheScope = { kind: 'PUBLIC' } | { kind: 'PRIVATE'; principal: string };

// A schema's id is the hash of its printed SDL, computed once per schema object:
// gateway instances serving the same supergraph share entries, and after a
// reload that changes the API schema, entries shaped by the older one are never served.
const schemaIds = new WeakMap<GraphQLSchema, string>();

function schemaId(schema: GraphQLSchema): string {
  let id = schemaIds.get(schema);
  if (!id) schemaIds.set(schema, (id = createHash('sha256').update(printSchema(schema)).digest('hex')));
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
