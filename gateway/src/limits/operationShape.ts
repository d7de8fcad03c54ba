import { Kind, Lexer, Source, TokenKind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** What operation limits are checked against. Fragments count once per spread. */
export interface OperationShape {
  /** Deepest field nesting; a root field is at depth 1. */
  readonly depth: number;
  readonly aliases: number;
  readonly directives: number;
  /** Fields selected at the root, through fragments too. */
  readonly rootFields: number;
}

interface Counts {
  depth: number;
  aliases: number;
  directives: number;
  fields: number;
}

const NONE: Counts = Object.freeze({ depth: 0, aliases: 0, directives: 0, fields: 0 });

/**
 * Measures an operation. Each fragment is measured once and reused, so the
 * work is linear in the document even when fragments fan out (the counts
 * themselves then grow, as the response would).
 */
export function measureOperation(operation: OperationDefinitionNode, fragments: readonly FragmentDefinitionNode[]): OperationShape {
  const definitions = new Map(fragments.map((f) => [f.name.value, f]));
  const measured = new Map<string, Counts>();

  function fragment(name: string): Counts {
    const known = measured.get(name);
    if (known) return known;
    // Validation has refused cycles already; this only keeps a bad document from looping.
    measured.set(name, NONE);
    const definition = definitions.get(name);
    const counts = definition ? selectionSet(definition.selectionSet) : NONE;
    const result = definition ? { ...counts, directives: counts.directives + (definition.directives?.length ?? 0) } : NONE;
    measured.set(name, result);
    return result;
  }

  function selectionSet(set: SelectionSetNode): Counts {
    const counts: Counts = { depth: 0, aliases: 0, directives: 0, fields: 0 };
    for (const selection of set.selections) {
      counts.directives += selection.directives?.length ?? 0;
      let inner: Counts;
      if (selection.kind === Kind.FIELD) {
        const child = selection.selectionSet ? selectionSet(selection.selectionSet) : NONE;
        inner = { depth: child.depth + 1, aliases: child.aliases + (selection.alias ? 1 : 0), directives: child.directives, fields: 1 };
      } else {
        inner = selection.kind === Kind.INLINE_FRAGMENT ? selectionSet(selection.selectionSet) : fragment(selection.name.value);
      }
      counts.depth = Math.max(counts.depth, inner.depth);
      counts.aliases += inner.aliases;
      counts.directives += inner.directives;
      counts.fields += inner.fields;
    }
    return counts;
  }

  const root = selectionSet(operation.selectionSet);
  const variableDirectives = (operation.variableDefinitions ?? []).reduce((n, v) => n + (v.directives?.length ?? 0), 0);
  return {
    depth: root.depth,
    aliases: root.aliases,
    directives: root.directives + (operation.directives?.length ?? 0) + variableDirectives,
    rootFields: root.fields,
  };
}

/** Lexical tokens of a document (comments excluded), counting no further than `limit + 1`. */
export function countTokens(document: string, limit: number): number {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  while (count <= limit && lexer.advance().kind !== TokenKind.EOF) count += 1;
  return count;
}
