/**
 * Random valid operations over a GraphQL schema, for differential fuzzing of
 * query-plan executors (README "Tests" → executor fuzzing).
 *
 * Each operation `i` of a seed comes from its own stream of a xoroshiro128+
 * generator (pure-rand), the seed's stream jumped `i` times, so any one
 * operation can be rebuilt alone from `(seed, i)` and a run of `count`
 * operations is the same run every time. The generator checks every document
 * with graphql-js `validate` and throws when one is invalid: a generator bug
 * fails loudly instead of fuzzing with refused documents.
 */
import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLString,
  Kind,
  astFromValue,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  print,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  visit,
  OperationTypeNode,
  validate,
  type ArgumentNode,
  type ConstValueNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
  type TypeNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/** Values to choose from for one argument. */
export interface ArgumentHint {
  /** Values as a client sends them in `variables` (enums by name, input objects as plain objects). */
  readonly values: readonly unknown[];
  /** Chance of leaving an optional argument out (its default applies). Default 0.3. */
  readonly omitProbability?: number;
}

/** What the generator should know about one field, keyed `Type.field` in {@link GeneratorOptions.fields}. */
export interface FieldHint {
  /** Argument name → values that yield data (ids that exist, small `first`s). Arguments without a hint get random values. */
  readonly args?: Readonly<Record<string, ArgumentHint>>;
  /** Never select this field (say why where the hints are written). Default false. */
  readonly exclude?: boolean;
}

/** Options of {@link createOperationGenerator}. */
export interface GeneratorOptions {
  /** The schema clients see (a gateway's API schema). Operations are queries on its `Query` type. */
  readonly schema: GraphQLSchema;
  /** Seed of the run: the same seed gives the same operations. */
  readonly seed: number;
  /** Per-field hints, keyed `Type.field`. Default none. */
  readonly fields?: Readonly<Record<string, FieldHint>>;
  /** Deepest field nesting, the root fields being depth 1. Default 5. */
  readonly maxDepth?: number;
  /** Most selections in one selection set (the root's included). Default 4. */
  readonly maxWidth?: number;
  /** Fields in one operation, fragments counted where written; past it selection sets get one selection. Default 40. */
  readonly maxFields?: number;
  /** `@skip` / `@include` applications written in one operation. Default 8. */
  readonly maxDirectives?: number;
  /** Chance that a field chosen at the root is `__schema` or `__type(name:)` instead. Default 0.03; 0 for none. */
  readonly introspection?: number;
}

/** One generated operation: what to POST, and what it contains. */
export interface GeneratedOperation {
  /** Its index in the seed's sequence. */
  readonly index: number;
  readonly query: string;
  readonly operationName: string | undefined;
  /** Variable values to send; variables left out here take their default (or are null). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** A uniform number in [0, 1) from the operation's stream, for the caller's own choices (e.g. who sends it). */
  readonly draw: number;
  /** The constructs the document contains (see {@link operationFeatures}). */
  readonly features: ReadonlySet<OperationFeature>;
}

/** Makes operation `index` of the seed. */
export interface OperationGenerator {
  operation(index: number): GeneratedOperation;
}

/** Constructs a document can contain; a run counts how many of its operations had each. */
export const OPERATION_FEATURES = [
  'alias',
  'same-field-twice',
  'argument-literal',
  'argument-variable',
  'variable-default',
  'variable-omitted',
  'inline-fragment',
  'inline-fragment-untyped',
  'inline-fragment-abstract',
  'named-fragment',
  'fragment-spread-twice',
  'typename',
  'skip',
  'include',
  'directive-variable',
  'introspection',
] as const;
export type OperationFeature = (typeof OPERATION_FEATURES)[number];

const DEFAULTS = { maxDepth: 5, maxWidth: 4, maxFields: 40, maxDirectives: 8, introspection: 0.03 } as const;

/** Decisions from one operation's random stream. */
class Dice {
  constructor(private readonly rng: JumpableRandomGenerator) {}
  int(min: number, max: number): number {
    return uniformInt(this.rng, min, max);
  }
  chance(probability: number): boolean {
    return this.int(0, 999_999) < probability * 1_000_000;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  fraction(): number {
    return this.int(0, 999_999) / 1_000_000;
  }
}

/**
 * The response keys written so far at one level of the response, with what
 * each key selects (`Type.field(args)`) and the keys below it. Fields that
 * share a key must select the same field with the same arguments, and their
 * sub-selections merge (graphql-js OverlappingFieldsCanBeMergedRule), so a
 * key taken by another selection makes the generator pick a fresh alias.
 * Inline fragments and spreads share their parent's level.
 */
type Scope = Map<string, { signature: string; below: Scope }>;

function compatible(from: Scope, into: Scope): boolean {
  for (const [key, entry] of from) {
    const existing = into.get(key);
    if (existing && (existing.signature !== entry.signature || !compatible(entry.below, existing.below))) return false;
  }
  return true;
}

function merge(from: Scope, into: Scope): void {
  for (const [key, entry] of from) {
    const existing = into.get(key);
    if (existing) merge(entry.below, existing.below);
    else into.set(key, { signature: entry.signature, below: copyScope(entry.below) });
  }
}

function copyScope(scope: Scope): Scope {
  const copy: Scope = new Map();
  merge(scope, copy);
  return copy;
}

interface Fragment {
  readonly name: string;
  readonly typeCondition: GraphQLCompositeType;
  /** Depth of the spread it was written for: deeper spreads would nest past `maxDepth`. */
  readonly depth: number;
  /** Introspection lists around the spread it was written for (more around another spread could pass graphql-js's bound). */
  readonly introspectionLists: number;
  readonly selectionSet: SelectionSetNode;
  readonly scope: Scope;
}

interface Variable {
  readonly definition: VariableDefinitionNode;
  /** The value sent, absent when left out (then its default, if any, applies). */
  readonly value?: { readonly value: unknown };
}

const name = (value: string) => ({ kind: Kind.NAME, value }) as const;

/** `Boolean!` for `@skip(if:)` / `@include(if:)`. */
const NON_NULL_BOOLEAN = new GraphQLNonNull(GraphQLBoolean);

const WORDS = ['', 'a', 'books', 'Kitchen', 'x y', 'zz'] as const;

/** Builds one operation from its own stream. */
class OperationBuilder {
  private readonly variables = new Map<string, Variable>();
  private readonly booleanVariables: string[] = [];
  private readonly fragments: Fragment[] = [];
  private keys = 0;
  private fields = 0;
  private directives = 0;
  /** `fields`, `interfaces`, `possibleTypes`, `inputFields` nested on the current path (graphql-js allows fewer than 3). */
  private introspectionLists = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly dice: Dice,
    private readonly options: Required<Omit<GeneratorOptions, 'schema' | 'seed' | 'fields'>>,
    private readonly hints: Readonly<Record<string, FieldHint>>,
  ) {}

  build(): { document: DocumentNode; variables: Record<string, unknown> } {
    const root = this.schema.getQueryType();
    if (!root) throw new Error('the schema has no Query type');
    const selectionSet = this.selectionSet(root, 1, new Map(), 0);
    // Only what the operation reaches: a fragment dropped where it was first written, and what it alone used, goes.
    const byName = new Map(this.fragments.map((f) => [f.name, f]));
    const reached = new Map<string, Fragment>();
    const used = new Set<string>();
    const walk = (node: SelectionSetNode): void => {
      visit(node, {
        Variable: (v) => void used.add(v.name.value),
        FragmentSpread: (spread) => {
          const fragment = byName.get(spread.name.value)!;
          if (reached.has(fragment.name)) return;
          reached.set(fragment.name, fragment);
          walk(fragment.selectionSet);
        },
      });
    };
    walk(selectionSet);
    const fragments = this.fragments.filter((f) => reached.has(f.name));
    const definitions = [...this.variables.entries()].filter(([n]) => used.has(n));
    const values: Record<string, unknown> = {};
    for (const [n, variable] of definitions) if (variable.value) values[n] = variable.value.value;
    const named = definitions.length > 0 || this.dice.chance(0.5);
    const document: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [
        {
          kind: Kind.OPERATION_DEFINITION,
          operation: OperationTypeNode.QUERY,
          name: named ? name('Fuzz') : undefined,
          variableDefinitions: definitions.map(([, v]) => v.definition),
          directives: [],
          selectionSet,
        },
        ...fragments.map((f): FragmentDefinitionNode => ({
          kind: Kind.FRAGMENT_DEFINITION,
          name: name(f.name),
          typeCondition: { kind: Kind.NAMED_TYPE, name: name(f.typeCondition.name) },
          directives: [],
          selectionSet: f.selectionSet,
        })),
      ],
    };
    return { document, variables: values };
  }

  private freshKey(): string {
    return `k${(this.keys += 1)}`;
  }

  /** A selection set on `type` at `depth`, writing its keys into `scope`; `nesting` counts enclosing fragments. */
  private selectionSet(type: GraphQLCompositeType, depth: number, scope: Scope, nesting: number): SelectionSetNode {
    const { maxWidth, maxFields } = this.options;
    const width = this.fields >= maxFields ? 1 : this.dice.int(1, maxWidth);
    const selections: SelectionNode[] = [];
    // On an abstract type, fragments on its possible types are how a query picks their fields: more of them there.
    const [fields, typename, inline] = isAbstractType(type) ? [40, 50, 82] : [62, 72, 86];
    for (let i = 0; i < width; i += 1) {
      const roll = this.dice.int(0, 99);
      let added: SelectionNode[] = [];
      if (roll < fields && !isUnionType(type)) added = this.fieldSelections(type, depth, scope, nesting);
      else if (roll < typename) added = [this.typename(scope)];
      else if (roll < inline && nesting < 2) added = this.inlineFragment(type, depth, scope, nesting);
      else if (nesting < 2) added = this.spread(type, depth, scope, nesting);
      selections.push(...added);
    }
    if (selections.length === 0) selections.push(this.typename(scope));
    return { kind: Kind.SELECTION_SET, selections };
  }

  private typename(scope: Scope): FieldNode {
    const signature = '__typename';
    let key = this.dice.chance(0.25) ? this.freshKey() : '__typename';
    if (scope.has(key) && scope.get(key)!.signature !== signature) key = this.freshKey();
    if (!scope.has(key)) scope.set(key, { signature, below: new Map() });
    return {
      kind: Kind.FIELD,
      alias: key === '__typename' ? undefined : name(key),
      name: name('__typename'),
      arguments: [],
      directives: this.maybeDirectives(),
    };
  }

  /** One field, sometimes followed by the same field again (same key merged, or another alias and arguments). */
  private fieldSelections(
    type: GraphQLObjectType | GraphQLInterfaceType,
    depth: number,
    scope: Scope,
    nesting: number,
  ): SelectionNode[] {
    // Now and then at the root: `__schema` or `__type(name:)`, answered by the gateway itself next to the plan's data.
    const introspect = type === this.schema.getQueryType() && this.dice.chance(this.options.introspection);
    const fields = introspect ? [SchemaMetaFieldDef, TypeMetaFieldDef] : Object.values(type.getFields());
    const candidates = fields.filter((f) => this.selectable(type, f, depth));
    if (candidates.length === 0) return [];
    // Mostly a field not selected here yet; at times one again (its key then merges or takes an alias).
    const fresh = candidates.filter((f) => !scope.has(f.name));
    const field = this.dice.pick(fresh.length > 0 && this.dice.chance(0.8) ? fresh : candidates);
    const first = this.field(type, field, depth, scope, nesting);
    if (!first) return [];
    const out: SelectionNode[] = [first];
    if (this.fields < this.options.maxFields && this.dice.chance(0.15)) {
      // The same response key again: same field, same arguments, another sub-selection merged into it.
      const again = this.field(type, field, depth, scope, nesting, {
        key: first.alias?.value ?? first.name.value,
        args: first.arguments,
      });
      if (again) out.push(again);
    }
    if (this.fields < this.options.maxFields && this.dice.chance(0.15)) {
      // The same field under another alias, with arguments chosen again.
      const other = this.field(type, field, depth, scope, nesting, { key: this.freshKey() });
      if (other) out.push(other);
    }
    return out;
  }

  private selectable(type: GraphQLNamedType, field: GraphQLField<unknown, unknown>, depth: number): boolean {
    if (this.hints[`${type.name}.${field.name}`]?.exclude) return false;
    if (introspectionList(type, field) && this.introspectionLists >= 2) return false;
    if (!isLeafType(getNamedType(field.type)) && depth >= this.options.maxDepth) return false;
    return field.args.every((arg) => !isNonNullType(arg.type) || this.hintFor(type, field, arg) || canInvent(arg.type));
  }

  private hintFor(
    type: GraphQLNamedType,
    field: GraphQLField<unknown, unknown>,
    arg: GraphQLArgument,
  ): ArgumentHint | undefined {
    if (field === TypeMetaFieldDef) return { values: [...Object.keys(this.schema.getTypeMap()), 'NoSuchType'] };
    return this.hints[`${type.name}.${field.name}`]?.args?.[arg.name];
  }

  private field(
    type: GraphQLObjectType | GraphQLInterfaceType,
    field: GraphQLField<unknown, unknown>,
    depth: number,
    scope: Scope,
    nesting: number,
    fixed: { key?: string; args?: readonly ArgumentNode[] } = {},
  ): FieldNode | undefined {
    const args = fixed.args ?? this.arguments(type, field);
    if (!args) return undefined;
    const signature = `${type.name}.${field.name}(${args.map((a) => `${a.name.value}:${print(a.value)}`).join(',')})`;
    let key = fixed.key ?? (this.dice.chance(0.2) ? this.freshKey() : field.name);
    if (scope.has(key) && scope.get(key)!.signature !== signature) key = this.freshKey();
    let entry = scope.get(key);
    if (!entry) scope.set(key, (entry = { signature, below: new Map() }));
    this.fields += 1;
    const named = getNamedType(field.type);
    const directives = this.maybeDirectives();
    const counted = introspectionList(type, field) ? 1 : 0;
    this.introspectionLists += counted;
    const selectionSet = isCompositeType(named) ? this.selectionSet(named, depth + 1, entry.below, nesting) : undefined;
    this.introspectionLists -= counted;
    return {
      kind: Kind.FIELD,
      alias: key === field.name ? undefined : name(key),
      name: name(field.name),
      arguments: args,
      directives,
      selectionSet,
    };
  }

  /** The field's arguments, or undefined when a required one has no value. */
  private arguments(type: GraphQLNamedType, field: GraphQLField<unknown, unknown>): ArgumentNode[] | undefined {
    const out: ArgumentNode[] = [];
    for (const arg of field.args) {
      const hint = this.hintFor(type, field, arg);
      const optional = !isNonNullType(arg.type) || arg.defaultValue !== undefined;
      if (optional && this.dice.chance(hint ? (hint.omitProbability ?? 0.3) : 0.85)) continue;
      const value = hint && hint.values.length > 0 ? this.dice.pick(hint.values) : this.invent(arg.type);
      if (value === undefined) {
        if (optional) continue;
        return undefined;
      }
      const node = this.dice.chance(0.35)
        ? this.variable(arg.type, value, hint?.values)
        : astFromValue(value, arg.type);
      if (!node)
        throw new Error(`cannot write ${JSON.stringify(value)} as ${String(arg.type)} (${type.name}.${field.name})`);
      out.push({ kind: Kind.ARGUMENT, name: name(arg.name), value: node });
    }
    return out;
  }

  /** A new variable of `type` holding `value`: sometimes with a default, sometimes left out of the values sent. */
  private variable(type: GraphQLInputType, value: unknown, choices?: readonly unknown[]): ValueNode {
    const variableName = `v${this.variables.size + 1}`;
    let defaultValue: ConstValueNode | undefined;
    if (this.dice.chance(0.3)) {
      const fallback = choices && choices.length > 0 ? this.dice.pick(choices) : this.invent(type);
      if (fallback !== undefined) defaultValue = astFromValue(fallback, type) as ConstValueNode | undefined;
    }
    // Left out: the default applies; without one, a nullable variable is null (the argument's default then applies).
    const omit = (defaultValue !== undefined || !isNonNullType(type)) && this.dice.chance(0.4);
    this.variables.set(variableName, {
      definition: {
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: name(variableName) },
        type: typeNode(type),
        defaultValue,
        directives: [],
      },
      value: omit ? undefined : { value },
    });
    return { kind: Kind.VARIABLE, name: name(variableName) };
  }

  /** `@skip` / `@include` now and then, with a literal or a Boolean variable (shared between uses at times). */
  private maybeDirectives(): DirectiveNode[] {
    const out: DirectiveNode[] = [];
    // Each at most once per location (UniqueDirectivesPerLocationRule), so both on one selection at most.
    const kinds = this.dice.chance(0.5) ? ['skip', 'include'] : ['include', 'skip'];
    for (const kind of kinds) {
      if (this.directives >= this.options.maxDirectives || !this.dice.chance(out.length === 0 ? 0.1 : 0.15)) break;
      this.directives += 1;
      let value: ValueNode;
      if (this.dice.chance(0.5)) value = { kind: Kind.BOOLEAN, value: this.dice.chance(0.5) };
      else if (this.booleanVariables.length > 0 && this.dice.chance(0.4))
        value = { kind: Kind.VARIABLE, name: name(this.dice.pick(this.booleanVariables)) };
      else {
        // Boolean! or Boolean with a default: both are allowed where Boolean! is expected.
        const nullable = this.dice.chance(0.5);
        const variableName = `b${this.booleanVariables.length + 1}`;
        const bool = this.dice.chance(0.5);
        this.booleanVariables.push(variableName);
        this.variables.set(variableName, {
          definition: {
            kind: Kind.VARIABLE_DEFINITION,
            variable: { kind: Kind.VARIABLE, name: name(variableName) },
            type: typeNode(nullable ? GraphQLBoolean : NON_NULL_BOOLEAN),
            defaultValue: nullable ? { kind: Kind.BOOLEAN, value: this.dice.chance(0.5) } : undefined,
            directives: [],
          },
          value: nullable && this.dice.chance(0.4) ? undefined : { value: bool },
        });
        value = { kind: Kind.VARIABLE, name: name(variableName) };
      }
      out.push({
        kind: Kind.DIRECTIVE,
        name: name(kind),
        arguments: [{ kind: Kind.ARGUMENT, name: name('if'), value }],
      });
    }
    return out;
  }

  /** Types a fragment inside a selection on `type` may be on: itself, its interfaces and unions, its possible types. */
  private fragmentTypes(type: GraphQLCompositeType): GraphQLCompositeType[] {
    const out: GraphQLCompositeType[] = [type];
    if (isAbstractType(type)) out.push(...this.schema.getPossibleTypes(type));
    if (isObjectType(type)) {
      out.push(...type.getInterfaces());
      for (const candidate of Object.values(this.schema.getTypeMap()))
        if (isUnionType(candidate) && candidate.getTypes().includes(type)) out.push(candidate);
    }
    return out;
  }

  private inlineFragment(type: GraphQLCompositeType, depth: number, scope: Scope, nesting: number): SelectionNode[] {
    const typed = this.dice.chance(0.75);
    const on = typed ? this.dice.pick(this.fragmentTypes(type)) : type;
    const directives = this.maybeDirectives();
    return [
      {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: typed ? { kind: Kind.NAMED_TYPE, name: name(on.name) } : undefined,
        directives,
        selectionSet: this.selectionSet(on, depth, scope, nesting + 1),
      },
    ];
  }

  /** A spread of an existing fragment that fits here, or of a new one. */
  private spread(type: GraphQLCompositeType, depth: number, scope: Scope, nesting: number): SelectionNode[] {
    const reusable = this.fragments.filter(
      (f) =>
        f.depth >= depth &&
        f.introspectionLists >= this.introspectionLists &&
        overlaps(this.schema, f.typeCondition, type) &&
        compatible(f.scope, scope),
    );
    let fragment: Fragment;
    if (reusable.length > 0 && this.dice.chance(0.5)) fragment = this.dice.pick(reusable);
    else {
      const on = this.dice.pick(this.fragmentTypes(type));
      const own: Scope = new Map();
      const selectionSet = this.selectionSet(on, depth, own, nesting + 1);
      fragment = {
        name: `F${this.fragments.length + 1}`,
        typeCondition: on,
        depth,
        introspectionLists: this.introspectionLists,
        selectionSet,
        scope: own,
      };
      this.fragments.push(fragment);
      if (!compatible(own, scope)) return [];
    }
    merge(fragment.scope, scope);
    return [{ kind: Kind.FRAGMENT_SPREAD, name: name(fragment.name), directives: this.maybeDirectives() }];
  }

  /** A value of `type` for an argument without a hint; undefined for custom scalars. */
  private invent(type: GraphQLInputType): unknown {
    if (isNonNullType(type)) return this.invent(type.ofType);
    if (isListType(type)) {
      const items = Array.from({ length: this.dice.int(0, 2) }, () => this.invent(type.ofType));
      return items.includes(undefined) ? undefined : items;
    }
    if (isEnumType(type)) return this.dice.pick(type.getValues()).name;
    if (isInputObjectType(type)) {
      const value: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (!isNonNullType(field.type) && this.dice.chance(0.5)) continue;
        const inner = this.invent(field.type);
        if (inner === undefined) {
          if (isNonNullType(field.type)) return undefined;
          continue;
        }
        value[field.name] = inner;
      }
      return value;
    }
    if (type === GraphQLInt) return this.dice.int(0, 5);
    if (type === GraphQLFloat) return this.dice.int(0, 10) / 2;
    if (type === GraphQLBoolean) return this.dice.chance(0.5);
    if (type === GraphQLString) return this.dice.pick(WORDS);
    if (type === GraphQLID) return String(this.dice.int(1, 5));
    return undefined;
  }
}

/** The introspection fields graphql-js's MaxIntrospectionDepthRule counts. */
const INTROSPECTION_LISTS = new Set(['fields', 'interfaces', 'possibleTypes', 'inputFields']);

function introspectionList(type: GraphQLNamedType, field: GraphQLField<unknown, unknown>): boolean {
  return type.name === '__Type' && INTROSPECTION_LISTS.has(field.name);
}

/** True when a value of `type` can be made up without a hint (no custom scalar on the way). */
function canInvent(type: GraphQLInputType, seen = new Set<string>()): boolean {
  if (isNonNullType(type) || isListType(type)) return canInvent(type.ofType as GraphQLInputType, seen);
  if (isEnumType(type)) return type.getValues().length > 0;
  if (isInputObjectType(type)) {
    if (seen.has(type.name)) return false;
    seen.add(type.name);
    return Object.values(type.getFields()).every((f) => !isNonNullType(f.type) || canInvent(f.type, seen));
  }
  return [GraphQLInt, GraphQLFloat, GraphQLBoolean, GraphQLString, GraphQLID].includes(type as never);
}

function possibleTypes(schema: GraphQLSchema, type: GraphQLCompositeType): readonly GraphQLObjectType[] {
  return isAbstractType(type) ? schema.getPossibleTypes(type) : [type];
}

/** True when a fragment on `condition` may be spread where `parent` is expected (PossibleFragmentSpreadsRule). */
function overlaps(schema: GraphQLSchema, condition: GraphQLCompositeType, parent: GraphQLCompositeType): boolean {
  const possible = new Set(possibleTypes(schema, parent));
  return possibleTypes(schema, condition).some((t) => possible.has(t));
}

function typeNode(type: GraphQLInputType): TypeNode {
  if (isNonNullType(type)) return { kind: Kind.NON_NULL_TYPE, type: typeNode(type.ofType) as never };
  if (isListType(type)) return { kind: Kind.LIST_TYPE, type: typeNode(type.ofType) };
  return { kind: Kind.NAMED_TYPE, name: name(type.name) };
}

/** The constructs of {@link OPERATION_FEATURES} that `document` contains. */
export function operationFeatures(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>>,
): Set<OperationFeature> {
  const found = new Set<OperationFeature>();
  const spreads = new Map<string, number>();
  const walk = (selectionSet: SelectionSetNode): void => {
    const names = new Map<string, Set<string>>();
    for (const selection of selectionSet.selections) {
      for (const directive of selection.directives ?? []) {
        found.add(directive.name.value as 'skip' | 'include');
        if (directive.arguments?.some((a) => a.value.kind === Kind.VARIABLE)) found.add('directive-variable');
      }
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__typename') found.add('typename');
        if (selection.name.value === '__schema' || selection.name.value === '__type') found.add('introspection');
        if (selection.alias) found.add('alias');
        const key = selection.alias?.value ?? selection.name.value;
        const keys = names.get(selection.name.value) ?? new Set();
        names.set(selection.name.value, keys.add(key));
        for (const arg of selection.arguments ?? [])
          found.add(arg.value.kind === Kind.VARIABLE ? 'argument-variable' : 'argument-literal');
        if (selection.selectionSet) walk(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        found.add('inline-fragment');
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : undefined;
        if (!condition) found.add('inline-fragment-untyped');
        else if (isAbstractType(condition)) found.add('inline-fragment-abstract');
        walk(selection.selectionSet);
      } else {
        found.add('named-fragment');
        spreads.set(selection.name.value, (spreads.get(selection.name.value) ?? 0) + 1);
      }
    }
    for (const keys of names.values()) if (keys.size > 1) found.add('same-field-twice');
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      for (const v of definition.variableDefinitions ?? []) {
        if (v.defaultValue) found.add('variable-default');
        if (!Object.hasOwn(variables, v.variable.name.value)) found.add('variable-omitted');
      }
      walk(definition.selectionSet);
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  if ([...spreads.values()].some((n) => n > 1)) found.add('fragment-spread-twice');
  return found;
}

/**
 * A seeded generator of random valid query operations over `options.schema`.
 * `operation(i)` is a pure function of `(seed, i)`; it throws if a document
 * it made does not validate (a bug of the generator).
 */
export function createOperationGenerator(options: GeneratorOptions): OperationGenerator {
  const settings = {
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    maxWidth: options.maxWidth ?? DEFAULTS.maxWidth,
    maxFields: options.maxFields ?? DEFAULTS.maxFields,
    maxDirectives: options.maxDirectives ?? DEFAULTS.maxDirectives,
    introspection: options.introspection ?? DEFAULTS.introspection,
  };
  const hints = options.fields ?? {};
  for (const key of Object.keys(hints)) {
    const [typeName, fieldName] = key.split('.');
    const type = options.schema.getType(typeName ?? '');
    if (!type || !(isObjectType(type) || isInterfaceType(type)) || !type.getFields()[fieldName ?? ''])
      throw new Error(`field hint ${key}: no such field in the schema`);
  }
  // Stream i is the seed's generator jumped i times; `cursor` remembers the last one for sequential runs.
  let cursor = { index: 0, rng: xoroshiro128plus(options.seed) };
  const streamOf = (index: number): JumpableRandomGenerator => {
    if (index < cursor.index) cursor = { index: 0, rng: xoroshiro128plus(options.seed) };
    const rng = cursor.rng.clone();
    for (let i = cursor.index; i < index; i += 1) rng.jump();
    cursor = { index, rng };
    return rng.clone();
  };
  return {
    operation(index) {
      const dice = new Dice(streamOf(index));
      const draw = dice.fraction();
      const { document, variables } = new OperationBuilder(options.schema, dice, settings, hints).build();
      const errors = validate(options.schema, document);
      const query = print(document);
      if (errors.length > 0)
        throw new Error(
          `generator bug (seed ${options.seed}, operation ${index}): invalid document\n${query}\n` +
            errors.map((e) => `  ${e.message}`).join('\n'),
        );
      const definition = document.definitions[0] as { name?: { value: string } };
      return {
        index,
        query,
        operationName: definition.name?.value,
        variables,
        draw,
        features: operationFeatures(options.schema, document, variables),
      };
    },
  };
}
