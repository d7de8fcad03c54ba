import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Deepest nesting of selection sets and fragment spreads one measurement follows; deeper documents are refused as too deep. */
export const MAX_NESTING = 2_000;

/** Thrown by {@link measureOperations} when selections nest deeper than {@link MAX_NESTING}. */
export class NestingTooDeep extends Error {
  override readonly name = 'NestingTooDeep';
}

/** What operation limits are checked against. Fragments count once per spread. */
export interface OperationShape {
  /** Deepest field nesting; a root field is at depth 1. */
  readonly depth: number;
  readonly aliases: number;
  readonly directives: number;
  /** Fields selected at the root, through fragments too. */
  readonly rootFields: number;
  /** Fields selected at any depth, each fragment counted at every spread: the size of the expanded operation. */
  readonly selections: number;
}

interface Counts {
  depth: number;
  aliases: number;
  directives: number;
  fields: number;
  selections: number;
}

const NONE: Counts = Object.freeze({ depth: 0, aliases: 0, directives: 0, fields: 0, selections: 0 });

/**
 * Measures every operation of a document, validated or not (it runs before
 * validation). Each fragment is measured once and reused by every spread and
 * every operation, so the work is linear in the document even when fragments fan out (the counts then grow, as the
 * response would; they stay finite numbers). Cycles and unknown fragments
 * count as empty; nesting (fields, inline fragments and spreads) deeper than
 * {@link MAX_NESTING} throws {@link NestingTooDeep} instead of exhausting the stack.
 */
export function measureOperations(document: DocumentNode): Map<OperationDefinitionNode, OperationShape> {
  const definitions = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION && !definitions.has(d.name.value)) definitions.set(d.name.value, d);
  const measured = new Map<string, Counts>();

  let nesting = 0;

  function fragment(name: string): Counts {
    const known = measured.get(name);
    if (known) return known;
    // Validation has not run yet: a cycle counts as empty (validation then refuses it).
    measured.set(name, NONE);
    const definition = definitions.get(name);
    const counts = definition ? selectionSet(definition.selectionSet) : NONE;
    const result = definition
      ? { ...counts, directives: counts.directives + (definition.directives?.length ?? 0) }
      : NONE;
    measured.set(name, result);
    return result;
  }

  function selectionSet(set: SelectionSetNode): Counts {
    if (++nesting > MAX_NESTING) throw new NestingTooDeep(`Selections nest deeper than ${MAX_NESTING} levels`);
    const counts: Counts = { depth: 0, aliases: 0, directives: 0, fields: 0, selections: 0 };
    for (const selection of set.selections) {
      counts.directives += selection.directives?.length ?? 0;
      let inner: Counts;
      if (selection.kind === Kind.FIELD) {
        const child = selection.selectionSet ? selectionSet(selection.selectionSet) : NONE;
        inner = {
          depth: child.depth + 1,
          aliases: child.aliases + (selection.alias ? 1 : 0),
          directives: child.directives,
          fields: 1,
          selections: child.selections + 1,
        };
      } else {
        inner =
          selection.kind === Kind.INLINE_FRAGMENT
            ? selectionSet(selection.selectionSet)
            : fragment(selection.name.value);
      }
      counts.depth = Math.max(counts.depth, inner.depth);
      counts.aliases += inner.aliases;
      counts.directives += inner.directives;
      counts.fields += inner.fields;
      counts.selections += inner.selections;
    }
    nesting -= 1;
    return counts;
  }

  const shapes = new Map<OperationDefinitionNode, OperationShape>();
  for (const operation of document.definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    const root = selectionSet(operation.selectionSet);
    const variableDirectives = (operation.variableDefinitions ?? []).reduce(
      (n, v) => n + (v.directives?.length ?? 0),
      0,
    );
    shapes.set(operation, {
      depth: root.depth,
      aliases: root.aliases,
      directives: root.directives + (operation.directives?.length ?? 0) + variableDirectives,
      rootFields: root.fields,
      selections: root.selections,
    });
  }
  return shapes;
}
