import type { GraphQLFormattedError } from 'graphql';
import { isListType, isNonNullType, type GraphQLOutputType } from 'graphql';
import type { RemovalTree } from './filter';

type Path = readonly (string | number)[];

/** Set on a value that must become null where its parent allows it (a non-null field or item was nulled). */
const BUBBLE = Symbol('null bubbles up');

function errorFor(coordinate: string, code: 'UNAUTHENTICATED' | 'FORBIDDEN', path: Path): GraphQLFormattedError {
  const message =
    code === 'UNAUTHENTICATED'
      ? `Not authorized: ${coordinate} needs a signed-in caller (a bearer token or an API key)`
      : `Not authorized: ${coordinate} needs a scope the caller does not have`;
  return { message, path: [...path], extensions: { code } };
}

function patchObject(
  object: Record<string, unknown>,
  tree: RemovalTree,
  path: Path,
  errors: GraphQLFormattedError[],
): typeof BUBBLE | undefined {
  for (const [key, node] of tree) {
    if (node.placeholder) {
      delete object[key];
      continue;
    }
    if (node.removed) {
      errors.push(errorFor(node.coordinate, node.removed, [...path, key]));
      // The object is null from here on: as in execution, its later fields are not reported.
      if (isNonNullType(node.type)) return BUBBLE;
      object[key] = null;
      continue;
    }
    if (!node.children || object[key] == null) continue;
    if (patchValue(object[key], node.type, node.children, [...path, key], errors) === BUBBLE) {
      if (isNonNullType(node.type)) return BUBBLE;
      object[key] = null;
    }
  }
  return undefined;
}

function patchValue(
  value: unknown,
  type: GraphQLOutputType,
  tree: RemovalTree,
  path: Path,
  errors: GraphQLFormattedError[],
): typeof BUBBLE | undefined {
  if (value == null) return undefined;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    const items = value as unknown[];
    const itemType = inner.ofType as GraphQLOutputType;
    for (let i = 0; i < items.length; i++) {
      if (patchValue(items[i], itemType, tree, [...path, i], errors) !== BUBBLE) continue;
      // A non-null item makes the whole list null: its later items are not reported.
      if (isNonNullType(itemType)) return BUBBLE;
      items[i] = null;
    }
    return undefined;
  }
  return patchObject(value as Record<string, unknown>, tree, path, errors);
}

/**
 * Answers the removed fields of a response as GraphQL answers a field that
 * failed: null with an error carrying its path and code, the null moving up
 * through non-null fields and items to the nearest nullable parent (`data`
 * itself if none). Mutates `data`; returns the data and the errors to add.
 */
export function applyRemovals(
  data: Record<string, unknown> | null | undefined,
  removals: RemovalTree,
): { data: Record<string, unknown> | null; errors: GraphQLFormattedError[] } {
  const errors: GraphQLFormattedError[] = [];
  if (data == null) {
    // Nothing executed or the root was nulled: still one error per removed root field.
    const root: Record<string, unknown> = {};
    const bubbled = patchObject(root, removals, [], errors);
    return { data: data === null || bubbled ? null : root, errors };
  }
  const bubbled = patchObject(data, removals, [], errors);
  return { data: bubbled ? null : data, errors };
}
