import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * True when the current field's selection reaches `path` (e.g.
 * ['edges', 'node', 'items']), through fragments and inline fragments.
 * Lets a loader fetch children in the same statement when they are asked for.
 * Each fragment is followed at most once per step of the path, so the walk is
 * linear in the document whatever its fragments spread.
 */
export function selects(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  const reaches = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): boolean => {
    if (!set) return false;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (
          selection.name.value === path[depth] &&
          (depth === path.length - 1 || reaches(selection.selectionSet, depth + 1, seen))
        )
          return true;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (reaches(selection.selectionSet, depth, seen)) return true;
      } else if (!seen.has(`${depth}:${selection.name.value}`)) {
        seen.add(`${depth}:${selection.name.value}`);
        if (reaches(info.fragments[selection.name.value]?.selectionSet, depth, seen)) return true;
      }
    }
    return false;
  };
  const seen = new Set<string>();
  return info.fieldNodes.some((node) => reaches(node.selectionSet, 0, seen));
}
