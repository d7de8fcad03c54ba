import { Kind, parse, print, valueFromASTUntyped, visit, type ConstDirectiveNode, type DocumentNode } from 'graphql';

/** The Federation specs this gateway enforces (README "Authorization"). */
export const AUTHENTICATED_SPEC = 'https://specs.apollo.dev/authenticated/';
export const REQUIRES_SCOPES_SPEC = 'https://specs.apollo.dev/requiresScopes/';

/**
 * What a field or type needs: a signed-in caller, and/or scopes — any one of
 * the `anyOf` sets, each set in full (`@requiresScopes(scopes: [["a", "b"], ["c"]])`
 * is (a AND b) OR c).
 */
export interface Requirement {
  readonly authenticated: boolean;
  readonly anyOf: readonly (readonly string[])[];
}

/** Who asks: signed in or not (a verified token or a known API key), and the scopes granted. */
export interface AccessSubject {
  readonly authenticated: boolean;
  readonly scopes: ReadonlySet<string>;
}

/** The access rules of a supergraph: by `Type` and by `Type.field`. */
export interface AccessRules {
  readonly types: ReadonlyMap<string, Requirement>;
  readonly fields: ReadonlyMap<string, Requirement>;
  /** True when the supergraph declares no rule (the filter is skipped). */
  readonly empty: boolean;
}

/** Why a requirement refuses a subject: UNAUTHENTICATED (not signed in), FORBIDDEN (a scope is missing), or none. */
export function refusal(requirement: Requirement, subject: AccessSubject): 'UNAUTHENTICATED' | 'FORBIDDEN' | undefined {
  if ((requirement.authenticated || requirement.anyOf.length > 0) && !subject.authenticated) return 'UNAUTHENTICATED';
  if (requirement.anyOf.length > 0 && !requirement.anyOf.some((set) => set.every((s) => subject.scopes.has(s))))
    return 'FORBIDDEN';
  return undefined;
}

/** Both requirements at once (a field's own and its type's). */
export function combine(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a) return b;
  if (!b) return a;
  // (A1 OR A2) AND (B1 OR B2) = every pairing of sets.
  const anyOf =
    a.anyOf.length === 0
      ? b.anyOf
      : b.anyOf.length === 0
        ? a.anyOf
        : a.anyOf.flatMap((x) => b.anyOf.map((y) => [...new Set([...x, ...y])]));
  return { authenticated: a.authenticated || b.authenticated, anyOf };
}

/** A stable label of a requirement, e.g. `authenticated` or `scopes:admin|products:write+x`. */
export function requirementLabel(requirement: Requirement): string {
  if (requirement.anyOf.length === 0) return 'authenticated';
  return `scopes:${requirement.anyOf.map((set) => [...set].sort().join('+')).join('|')}`;
}

/** Evaluates a label made by {@link requirementLabel} against a subject. */
export function labelRefusal(label: string, subject: AccessSubject): 'UNAUTHENTICATED' | 'FORBIDDEN' | undefined {
  if (label === 'authenticated') return refusal({ authenticated: true, anyOf: [] }, subject);
  const anyOf = label
    .slice('scopes:'.length)
    .split('|')
    .map((set) => set.split('+'));
  return refusal({ authenticated: true, anyOf }, subject);
}

interface LinkedNames {
  authenticated: string | undefined;
  requiresScopes: string | undefined;
}

function stringArg(directive: ConstDirectiveNode, name: string): string | undefined {
  const arg = directive.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

/** The names the supergraph gives the two directives (`@link(url, as)`), if it links them. */
function linkedNames(document: DocumentNode): LinkedNames {
  const names: LinkedNames = { authenticated: undefined, requiresScopes: undefined };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const url = stringArg(directive, 'url') ?? '';
      if (url.startsWith(AUTHENTICATED_SPEC)) names.authenticated = stringArg(directive, 'as') ?? 'authenticated';
      if (url.startsWith(REQUIRES_SCOPES_SPEC)) names.requiresScopes = stringArg(directive, 'as') ?? 'requiresScopes';
    }
  }
  return names;
}

function requirementOf(
  directives: readonly ConstDirectiveNode[] | undefined,
  names: LinkedNames,
): Requirement | undefined {
  let requirement: Requirement | undefined;
  for (const directive of directives ?? []) {
    if (directive.name.value === names.authenticated) {
      requirement = combine(requirement, { authenticated: true, anyOf: [] });
    } else if (directive.name.value === names.requiresScopes) {
      const arg = directive.arguments?.find((a) => a.name.value === 'scopes');
      const scopes = arg ? (valueFromASTUntyped(arg.value) as string[][]) : [];
      requirement = combine(requirement, { authenticated: true, anyOf: scopes.map((set) => [...set]) });
    }
  }
  return requirement;
}

/** Reads `@authenticated` and `@requiresScopes` from a supergraph SDL (types and fields; Federation composes them there). */
export function accessRules(supergraphSdl: string): AccessRules {
  const document = parse(supergraphSdl);
  const names = linkedNames(document);
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  if (names.authenticated === undefined && names.requiresScopes === undefined) return { types, fields, empty: true };
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.SCALAR_TYPE_DEFINITION &&
      definition.kind !== Kind.ENUM_TYPE_DEFINITION
    )
      continue;
    const typeName = definition.name.value;
    const own = requirementOf(definition.directives, names);
    if (own) types.set(typeName, own);
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      const requirement = requirementOf(field.directives, names);
      if (requirement) fields.set(`${typeName}.${field.name.value}`, requirement);
    }
  }
  return { types, fields, empty: types.size === 0 && fields.size === 0 };
}

/**
 * The supergraph as ApolloGateway takes it: the `@link`s of the two
 * authorization specs lose `for: SECURITY`. ApolloGateway refuses a
 * SECURITY feature it does not enforce; this gateway enforces both before
 * planning (features/authorization), so they are plain metadata to the planner.
 * Unchanged when the supergraph does not link them.
 */
export function withEnforcedSecurity(supergraphSdl: string): string {
  if (!supergraphSdl.includes(AUTHENTICATED_SPEC) && !supergraphSdl.includes(REQUIRES_SCOPES_SPEC))
    return supergraphSdl;
  const document = parse(supergraphSdl);
  let changed = false;
  const rewritten = visit(document, {
    Directive(node) {
      if (node.name.value !== 'link') return undefined;
      const url = stringArg(node as ConstDirectiveNode, 'url') ?? '';
      if (!url.startsWith(AUTHENTICATED_SPEC) && !url.startsWith(REQUIRES_SCOPES_SPEC)) return undefined;
      changed = true;
      return { ...node, arguments: node.arguments?.filter((a) => a.name.value !== 'for') };
    },
  });
  return changed ? print(rewritten) : supergraphSdl;
}
