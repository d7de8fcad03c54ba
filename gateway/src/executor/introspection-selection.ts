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
  return { ...field, selectionSet: toNode(expand(schema, type, selections, fragments)) };
}

/** A selection set under construction: groups by key, in first-occurrence order. */
type Items = Map<string, Item>;

interface Item {
  readonly node: FieldNode | InlineFragmentNode;
  /** The merged sub-selections (undefined for a leaf field). */
  readonly children: Items | undefined;
  readonly plainTypename: boolean;
}

function add(items: Items, key: string, item: Item): void {
  const existing = items.get(key);
  if (!existing) {
    items.set(key, item);
    return;
  }
  if (existing.children && item.children) for (const [k, child] of item.children) add(existing.children, k, child);
}

function expand(
  schema: GraphQLSchema,
  parent: GraphQLNamedType,
  selections: readonly SelectionNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  items: Items = new Map(),
): Items {
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      const type = definition ? getNamedType(definition.type) : undefined;
      const children =
        selection.selectionSet && type && isCompositeType(type)
          ? expand(schema, type, selection.selectionSet.selections, fragments)
          : undefined;
      add(items, selectionKey(selection), {
        node: selection,
        children,
        plainTypename: name === '__typename' && !selection.alias && !selection.directives?.length,
      });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
      add(items, selectionKey(selection), {
        node: selection,
        children: expand(schema, condition ?? parent, selection.selectionSet.selections, fragments),
        plainTypename: false,
      });
    } else {
      const fragment = fragments[selection.name.value];
      if (!fragment) continue;
      const condition = schema.getType(fragment.typeCondition.name.value) ?? parent;
      const directives = [...(fragment.directives ?? []), ...(selection.directives ?? [])];
      if (condition.name === parent.name && directives.length === 0) {
        expand(schema, parent, fragment.selectionSet.selections, fragments, items);
      } else {
        const node: InlineFragmentNode = {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives,
          selectionSet: fragment.selectionSet,
        };
        add(items, inlineFragmentKey(condition.name, directives), {
          node,
          children: expand(schema, condition, fragment.selectionSet.selections, fragments),
          plainTypename: false,
        });
      }
    }
  }
  return items;
}

function toNode(items: Items): SelectionSetNode {
  const all = [...items.values()];
  const typename = all.find((item) => item.plainTypename);
  const ordered = typename ? [typename, ...all.filter((item) => item !== typename)] : all;
  return {
    kind: Kind.SELECTION_SET,
    selections: ordered.map((item) =>
      item.children ? { ...item.node, selectionSet: toNode(item.children) } : item.node,
    ) as SelectionNode[],
  };
}
