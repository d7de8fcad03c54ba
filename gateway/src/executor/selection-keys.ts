import {
  Kind,
  print,
  type DirectiveNode,
  type FieldNode,
  type InlineFragmentNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * How federation-internals normalizes an operation's selections, which
 * decides the key order of Apollo's answers: selections with the same key
 * (response name or fragment, and directives) are one, standing where the
 * first of them stands, their sub-selections concatenated.
 */

/** federation-internals' selection key: what makes two selections one. */
export function selectionKey(selection: SelectionNode): string {
  const directives = directivesKey(selection.directives);
  switch (selection.kind) {
    case Kind.FIELD:
      return `f:${(selection.alias ?? selection.name).value}${directives}`;
    case Kind.INLINE_FRAGMENT:
      return inlineFragmentKey(selection.typeCondition?.name.value, selection.directives);
    case Kind.FRAGMENT_SPREAD:
      return `s:${selection.name.value}${directives}`;
  }
}

/** The key of an inline fragment (also of a named fragment expanded into one). */
export function inlineFragmentKey(
  typeCondition: string | undefined,
  directives: readonly DirectiveNode[] | undefined,
): string {
  return `i:${typeCondition ?? ''}${directivesKey(directives)}`;
}

function directivesKey(directives: readonly DirectiveNode[] | undefined): string {
  return (directives ?? []).map(directiveKey).join(' ');
}

function directiveKey(directive: DirectiveNode): string {
  const args = [...(directive.arguments ?? [])]
    .sort((a, b) => a.name.value.localeCompare(b.name.value))
    .map((a) => `${a.name.value}: ${print(a.value)}`);
  return `@${directive.name.value}${args.length > 0 ? `(${args.join(', ')})` : ''}`;
}

/** The selections grouped by key, each group where its first member stands. */
export function groupSelections(selections: readonly SelectionNode[]): SelectionNode[][] {
  if (selections.length === 1) return [[selections[0]!]];
  const groups = new Map<string, SelectionNode[]>();
  for (const selection of selections) {
    const key = selectionKey(selection);
    const group = groups.get(key);
    if (group) group.push(selection);
    else groups.set(key, [selection]);
  }
  return [...groups.values()];
}

/** One selection set holding the sub-selections of every member of a group (undefined for leaves). */
export function mergedSelectionSet(group: readonly (FieldNode | InlineFragmentNode)[]): SelectionSetNode | undefined {
  const sets = group.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  if (sets.length <= 1) return sets[0];
  return { kind: Kind.SELECTION_SET, selections: sets.flatMap((set) => set.selections) };
}
