import { isObjectType, type GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

/**
 * Entity tags for the gateway's response cache. A subgraph reports, in
 * `extensions.cacheTags`, every entity (`Type:id`) a response resolved, and
 * in `extensions.invalidatedTags` every entity a mutation changed; the
 * gateway tags cached responses with the former and drops entries on the
 * latter. The gateway never passes subgraph extensions on to clients.
 */
export interface CacheTags {
  /** Entities resolved by this request (filled automatically). */
  readonly resolved: Set<string>;
  /** Entities this request changed; mutations call {@link CacheTags.changed}. */
  readonly invalidated: Set<string>;
  changed(type: string, id: string): void;
}

export function createCacheTags(): CacheTags {
  const invalidated = new Set<string>();
  return { resolved: new Set(), invalidated, changed: (type, id) => invalidated.add(`${type}:${id}`) };
}

/** The entity types of a subgraph schema: object types with a federation `@key`. */
function entityTypes(schema: GraphQLSchema): Set<string> {
  const names = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) && type.astNode?.directives?.some((d) => d.name.value === 'key')) names.add(type.name);
  }
  return names;
}

/**
 * Records `Type:id` whenever a field of an entity is resolved: this covers
 * root fields, connections and `_entities` fetches alike, since every
 * entity a response contains has at least one of its fields resolved.
 */
export function createCacheTagsPlugin<TContext extends BaseContext & { cacheTags: CacheTags }>(
  schema: GraphQLSchema,
): ApolloServerPlugin<TContext> {
  const entities = entityTypes(schema);
  return {
    async requestDidStart() {
      return {
        async executionDidStart({ contextValue }) {
          const { resolved } = contextValue.cacheTags;
          return {
            willResolveField({ source, info }) {
              // Runs for every field: cheapest test first.
              const type = info.parentType.name;
              if (!entities.has(type)) return;
              const id = (source as { id?: unknown } | null)?.id;
              if (typeof id === 'string') resolved.add(`${type}:${id}`);
            },
          };
        },
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== 'single') return;
          const { resolved, invalidated } = contextValue.cacheTags;
          if (resolved.size === 0 && invalidated.size === 0) return;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            ...(resolved.size ? { cacheTags: [...resolved] } : {}),
            ...(invalidated.size ? { invalidatedTags: [...invalidated] } : {}),
          };
        },
      };
    },
  };
}
