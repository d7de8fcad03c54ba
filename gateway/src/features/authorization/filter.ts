import { createHash } from 'node:crypto';
import {
  Kind,
  getNamedType,
  isInterfaceType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { combine, refusal, requirementLabel, type AccessRules, type AccessSubject, type Requirement } from './rules';

/**
 * Response key of the `__typename` the filter puts in a selection set it
 * emptied (a selection set cannot be empty); removed from the response again.
 */
export const PLACEHOLDER_KEY = '_authorizationRemovedAll';

/** Where removed fields are in the response: by response key, down to each removed field. */
export type RemovalTree = Map<string, RemovalNode>;

export interface RemovalNode {
  /** The field's type (its nullability decides where a null stops). */
  readonly type: GraphQLOutputType;
  /** `Type.field`, named in the error. */
  readonly coordinate: string;
  /** Set when the field itself is removed. */
  readonly removed?: 'UNAUTHENTICATED' | 'FORBIDDEN';
  /** What to patch below it. */
  readonly children?: RemovalTree;
  /** The placeholder `__typename` (deleted from the response). */
  readonly placeholder?: true;
}

/** What the filter decided for one operation and subject. */
export interface AuthorizedOperation {
  /** The document to plan: unchanged (same object) when nothing was removed. */
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** Removed fields by response path; empty when nothing was removed. */
  readonly removals: RemovalTree;
  /** True when the whole root selection was removed: nothing is planned or fetched. */
  readonly nothingLeft: boolean;
  /** Labels of the requirements the kept fields have (a cache hit re-checks them). */
  readonly requirements: readonly string[];
  /** Stable text of the removals, folded into the query hash (plans and cache keys differ). */
  readonly signature: string;
}

function mergeInto(target: RemovalTree, source: RemovalTree): void {
  for (const [key, node] of source) {
    const existing = target.get(key);
    if (!existing || existing.removed || existing.placeholder || !node.children) {
      if (!existing) target.set(key, node);
      continue;
    }
    if (existing.children) mergeInto(existing.children, node.children);
    else target.set(key, node);
  }
}

/** Stable text of a removal tree. */
function signatureOf(tree: RemovalTree): string {
  const parts: string[] = [];
  for (const [key, node] of tree) {
    if (node.removed) parts.push(`${key}!${node.removed}`);
    else if (node.placeholder) parts.push(`${key}?`);
    else if (node.children) parts.push(`${key}{${signatureOf(node.children)}}`);
  }
  return parts.sort().join(',');
}

/**
 * Removes from an operation every field the subject may not see
 * (`@authenticated`, `@requiresScopes` on the field or its type) and says
 * where they were, so that they are answered as null with an error and no
 * subgraph is asked for them. Each fragment is filtered once (memoized) and
 * a spread inside its own chain is never followed, so the walk is bounded by
 * the document's size. Fragments emptied by the filter are dropped with their
 * spreads; an emptied selection set keeps a placeholder `__typename`.
 */
export function authorizeOperation(options: {
  schema: GraphQLSchema;
  rules: AccessRules;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  subject: AccessSubject;
}): AuthorizedOperation {
  const { schema, rules, document, operation, subject } = options;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const filteredFragments = new Map<string, { selectionSet: SelectionSetNode | undefined; removals: RemovalTree }>();
  const inProgress = new Set<string>();
  const requirements = new Set<string>();
  let changed = false;

  function requirementOf(parent: GraphQLCompositeType, field: FieldNode, type: GraphQLOutputType) {
    const own: Requirement | undefined = rules.fields.get(`${parent.name}.${field.name.value}`);
    return combine(own, rules.types.get(getNamedType(type).name));
  }

  function filterFragment(name: string) {
    const done = filteredFragments.get(name);
    if (done || inProgress.has(name)) return done;
    const definition = fragments.get(name);
    const type = definition && schema.getType(definition.typeCondition.name.value);
    if (!definition || !type || !('name' in type)) return undefined;
    inProgress.add(name);
    const removals: RemovalTree = new Map();
    const selectionSet = filterSelectionSet(definition.selectionSet, type as GraphQLCompositeType, removals, false);
    inProgress.delete(name);
    const result = { selectionSet, removals };
    filteredFragments.set(name, result);
    return result;
  }

  /** The filtered selection set, or undefined if nothing is left. */
  function filterSelectionSet(
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    removals: RemovalTree,
    placeholder: boolean,
  ): SelectionSetNode | undefined {
    const kept: SelectionNode[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const definition =
          isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
        if (!definition) {
          kept.push(selection); // __typename (validation passed: nothing else is unknown)
          continue;
        }
        const coordinate = `${parent.name}.${selection.name.value}`;
        const requirement = requirementOf(parent, selection, definition.type);
        const code = requirement && refusal(requirement, subject);
        if (code) {
          changed = true;
          removals.set(key, { type: definition.type, coordinate, removed: code });
          continue;
        }
        if (requirement) requirements.add(requirementLabel(requirement));
        if (!selection.selectionSet) {
          kept.push(selection);
          continue;
        }
        const below: RemovalTree = new Map();
        const inner = filterSelectionSet(
          selection.selectionSet,
          getNamedType(definition.type) as GraphQLCompositeType,
          below,
          true,
        );
        if (below.size > 0)
          mergeInto(removals, new Map([[key, { type: definition.type, coordinate, children: below }]]));
        kept.push(inner === selection.selectionSet ? selection : { ...selection, selectionSet: inner });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition && schema.getType(selection.typeCondition.name.value);
        const inner = filterSelectionSet(
          selection.selectionSet,
          (condition as GraphQLCompositeType | undefined) ?? parent,
          removals,
          false,
        );
        if (inner === selection.selectionSet) kept.push(selection);
        else if (inner) kept.push({ ...selection, selectionSet: inner });
      } else {
        const filtered = filterFragment(selection.name.value);
        if (!filtered) {
          kept.push(selection);
          continue;
        }
        mergeInto(removals, filtered.removals);
        if (filtered.selectionSet) kept.push(selection);
      }
    }
    if (kept.length === selectionSet.selections.length && kept.every((s, i) => s === selectionSet.selections[i]))
      return selectionSet;
    changed = true;
    if (kept.length > 0) return { ...selectionSet, selections: kept };
    if (!placeholder) return undefined;
    removals.set(PLACEHOLDER_KEY, {
      type: schema.getTypeMap()['String'] as GraphQLOutputType,
      coordinate: '',
      placeholder: true,
    });
    const typename: FieldNode = {
      kind: Kind.FIELD,
      alias: { kind: Kind.NAME, value: PLACEHOLDER_KEY },
      name: { kind: Kind.NAME, value: '__typename' },
    };
    return { ...selectionSet, selections: [typename] };
  }

  const root = schema.getRootType(operation.operation);
  const removals: RemovalTree = new Map();
  const none = { removals, nothingLeft: false, signature: '' };
  if (!root || rules.empty) return { document, operation, requirements: [], ...none };
  const selectionSet = filterSelectionSet(operation.selectionSet, root, removals, false);
  if (!changed) return { document, operation, requirements: [...requirements].sort(), ...none };
  const filteredOperation: OperationDefinitionNode = {
    ...operation,
    selectionSet: selectionSet ?? { kind: Kind.SELECTION_SET, selections: [] },
  };
  const keptFragments = reachableFragments(filteredOperation.selectionSet, (name) => {
    const filtered = filteredFragments.get(name);
    // A fragment never filtered sits where no rule reaches (under __schema or __type): kept as written.
    if (!filtered) return fragments.get(name);
    return filtered.selectionSet && { ...fragments.get(name)!, selectionSet: filtered.selectionSet };
  });
  return {
    document: { kind: Kind.DOCUMENT, definitions: [filteredOperation, ...keptFragments] },
    operation: filteredOperation,
    removals,
    nothingLeft: selectionSet === undefined,
    requirements: [...requirements].sort(),
    signature: signatureOf(removals),
  };
}

/** The fragments a selection set still spreads, directly or through other fragments, each once. */
function reachableFragments(
  selectionSet: SelectionSetNode,
  fragmentOf: (name: string) => FragmentDefinitionNode | undefined,
): FragmentDefinitionNode[] {
  const found = new Map<string, FragmentDefinitionNode>();
  const pending = [selectionSet];
  while (pending.length > 0) {
    for (const selection of pending.pop()!.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = found.has(name) ? undefined : fragmentOf(name);
        if (fragment) {
          found.set(name, fragment);
          pending.push(fragment.selectionSet);
        }
      } else if (selection.selectionSet) pending.push(selection.selectionSet);
    }
  }
  return [...found.values()];
}

/** The query hash of a filtered operation: plans and cache entries of different removals never mix. */
export function filteredQueryHash(queryHash: string, signature: string): string {
  return signature === ''
    ? queryHash
    : createHash('sha256').update(`${queryHash}\0authorization:${signature}`).digest('hex');
}
