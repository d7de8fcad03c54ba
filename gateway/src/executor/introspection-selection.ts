import {
  Kind,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { inlineFragmentKey, selectionKey } from './selection-keys';

/**
 * The selection of a root introspection field (`__schema`, `__type`) as
 * @apollo/gateway hands it to graphql-js: named fragments expanded (inlined
 * when on the same type without directives, else inline fragments), same-key
 * selections merged where the first stands, and a plain `__typename` printed
 * first in every selection set. Its answer's key order follows from this.
 */
export function introspectionSelection(
  schema: GraphQLSchema,
  field: FieldNode,
  fields: readonly FieldNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): FieldNode {
  const type = field.name.value === '__schema' ? schema.getType('__Schema') : schema.getType('__Type');
  const selections = fields.flatMap((f) => f.selectionSet?.selections ?? []);
  if (!type || selections.length === 0) return field;
  return { ...field, selectionSet: toNode(expand(schema, type, selections, fragments, newItems())) };
}

/**
 * A selection set under construction: its groups by key, in first-occurrence order, and the named fragments
 * already merged into it. Merging is idempotent, so a fragment merged twice into the same set (`...F ...F`,
 * or reached through two other fragments) is walked once: the work follows the merged selection, not the
 * expanded one, which is exponential in a fragment bomb.
 */
interface Items {
  readonly groups: Map<string, Item>;
  readonly merged: Set<string>;
}

interface Item {
  readonly node: FieldNode | InlineFragmentNode;
  /** The merged sub-selections (undefined for a leaf field). */
  readonly children: Items | undefined;
  readonly plainTypename: boolean;
}

function newItems(): Items {
  return { groups: new Map(), merged: new Set() };
}

/** The group of `key` in `items` (created with `node` on first sight); its sub-selections, if it has any. */
function groupOf(
  items: Items,
  key: string,
  node: FieldNode | InlineFragmentNode,
  composite: boolean,
  plainTypename = false,
): Items | undefined {
  let item = items.groups.get(key);
  if (!item) {
    item = { node, children: composite ? newItems() : undefined, plainTypename };
    items.groups.set(key, item);
  }
  return item.children;
}

function expand(
  schema: GraphQLSchema,
  parent: GraphQLNamedType,
  selections: readonly SelectionNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  items: Items,
): Items {
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      const type = definition ? getNamedType(definition.type) : undefined;
      const composite = !!selection.selectionSet && !!type && isCompositeType(type);
      const plainTypename = name === '__typename' && !selection.alias && !selection.directives?.length;
      const children = groupOf(items, selectionKey(selection), selection, composite, plainTypename);
      if (children) expand(schema, type!, selection.selectionSet!.selections, fragments, children);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
      const children = groupOf(items, selectionKey(selection), selection, true)!;
      expand(schema, condition ?? parent, selection.selectionSet.selections, fragments, children);
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment) continue;
      const condition = schema.getType(fragment.typeCondition.name.value) ?? parent;
      const directives = [...(fragment.directives ?? []), ...(selection.directives ?? [])];
      // On the same type without directives its selections join this set; else it becomes an inline fragment.
      const target =
        condition.name === parent.name && directives.length === 0
          ? items
          : groupOf(
              items,
              inlineFragmentKey(condition.name, directives),
              {
                kind: Kind.INLINE_FRAGMENT,
                typeCondition: fragment.typeCondition,
                directives,
                selectionSet: fragment.selectionSet,
              },
              true,
            )!;
      if (target.merged.has(name)) continue;
      target.merged.add(name);
      expand(schema, condition, fragment.selectionSet.selections, fragments, target);
    }
  }
  return items;
}

function toNode(items: Items): SelectionSetNode {
  const all = [...items.groups.values()];
  const typename = all.find((item) => item.plainTypename);
  const ordered = typename ? [typename, ...all.filter((item) => item !== typename)] : all;
  return {
    kind: Kind.SELECTION_SET,
    selections: ordered.map((item) =>
      item.children ? { ...item.node, selectionSet: toNode(item.children) } : item.node,
    ) as SelectionNode[],
  };
}
