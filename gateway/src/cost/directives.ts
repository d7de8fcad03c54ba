import { Kind, parse, valueFromASTUntyped, type DirectiveNode, type DocumentNode } from 'graphql';

/** `@listSize` of one field, as the supergraph declares it. */
export interface ListSizeSpec {
  /** Size to assume when no slicing argument gives one. */
  readonly assumedSize: number | undefined;
  /** Arguments whose (largest) value is the list's size, e.g. `first`. */
  readonly slicingArguments: readonly string[];
  /** Child fields whose list size the slicing arguments give (`edges` of a connection). */
  readonly sizedFields: readonly string[];
  /** Whether exactly one slicing argument must be set (default true). */
  readonly requireOneSlicingArgument: boolean;
}

/** The `@cost` and `@listSize` applications of a supergraph, by schema coordinate. */
export interface CostDirectives {
  /** `@cost` of an object, scalar or enum type. */
  typeWeight(type: string): number | undefined;
  /** `@cost` of an output or input field (`Type.field`). */
  fieldWeight(type: string, field: string): number | undefined;
  /** `@cost` of an argument (`Type.field(arg:)`). */
  argumentWeight(type: string, field: string, argument: string): number | undefined;
  listSize(type: string, field: string): ListSizeSpec | undefined;
}

const COST_SPEC = /^https:\/\/specs\.apollo\.dev\/cost\/v\d+\.\d+$/;

interface Names {
  cost: string | undefined;
  listSize: string | undefined;
}

/**
 * Finds what the supergraph calls `@cost` and `@listSize`: it links the cost
 * spec (`@link(url: "https://specs.apollo.dev/cost/v0.1", import: [...])`),
 * possibly under another namespace (`as:`) or with renamed imports. Without
 * that link the supergraph has no cost directives.
 */
function directiveNames(document: DocumentNode): Names {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const args = Object.fromEntries((link.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
      if (typeof args.url !== 'string' || !COST_SPEC.test(args.url)) continue;
      const namespace = typeof args.as === 'string' ? args.as : 'cost';
      // The spec's eponymous directive is `@<namespace>`; others are `@<namespace>__<name>` unless imported.
      const names: Names = { cost: namespace, listSize: `${namespace}__listSize` };
      for (const entry of Array.isArray(args.import) ? args.import : []) {
        const [name, alias] =
          typeof entry === 'string'
            ? [entry, entry]
            : [
                (entry as { name?: unknown }).name,
                (entry as { as?: unknown }).as ?? (entry as { name?: unknown }).name,
              ];
        if (typeof name !== 'string' || typeof alias !== 'string') continue;
        if (name === '@cost') names.cost = alias.slice(1);
        if (name === '@listSize') names.listSize = alias.slice(1);
      }
      return names;
    }
  }
  return { cost: undefined, listSize: undefined };
}

function argumentsOf(directive: DirectiveNode): Record<string, unknown> {
  return Object.fromEntries((directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Indexes the cost directives of a (core) supergraph SDL; none without one. */
export function readCostDirectives(supergraphSdl: string | undefined): CostDirectives {
  const document: DocumentNode = supergraphSdl
    ? parse(supergraphSdl, { noLocation: true })
    : { kind: Kind.DOCUMENT, definitions: [] };
  const names = directiveNames(document);
  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSizeSpec>();

  const weightOf = (directives: readonly DirectiveNode[] | undefined): number | undefined => {
    const cost = directives?.find((d) => d.name.value === names.cost);
    const weight = cost && argumentsOf(cost).weight;
    return typeof weight === 'number' && Number.isFinite(weight) ? weight : undefined;
  };
  const record = (coordinate: string, directives: readonly DirectiveNode[] | undefined): void => {
    const weight = weightOf(directives);
    if (weight !== undefined) weights.set(coordinate, weight);
  };

  if (names.cost !== undefined) {
    for (const definition of document.definitions) {
      if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
      const type = definition.name.value;
      record(type, definition.directives);
      const fields = 'fields' in definition ? (definition.fields ?? []) : [];
      for (const field of fields) {
        record(`${type}.${field.name.value}`, field.directives);
        for (const argument of 'arguments' in field ? (field.arguments ?? []) : []) {
          record(`${type}.${field.name.value}(${argument.name.value}:)`, argument.directives);
        }
        const listSize = field.directives?.find((d) => d.name.value === names.listSize);
        if (!listSize) continue;
        const args = argumentsOf(listSize);
        listSizes.set(`${type}.${field.name.value}`, {
          assumedSize: typeof args.assumedSize === 'number' ? args.assumedSize : undefined,
          slicingArguments: strings(args.slicingArguments),
          sizedFields: strings(args.sizedFields),
          requireOneSlicingArgument: args.requireOneSlicingArgument !== false,
        });
      }
    }
  }

  return {
    typeWeight: (type) => weights.get(type),
    fieldWeight: (type, field) => weights.get(`${type}.${field}`),
    argumentWeight: (type, field, argument) => weights.get(`${type}.${field}(${argument}:)`),
    listSize: (type, field) => listSizes.get(`${type}.${field}`),
  };
}
