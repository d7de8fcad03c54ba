import {
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  valueFromAST,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { CostDirectives, ListSizeSpec } from './directives';
import type { InputScorer } from './input-cost';

/**
 * The cost plan of one operation: what the estimate and the actual cost are
 * computed from. Compiling it does every schema and directive lookup once per
 * document; what depends on variables (`@skip`/`@include`, slicing arguments,
 * argument values) is kept as references to evaluate per request.
 */
export interface CostPlan {
  /** 10 for mutations, 0 otherwise. */
  readonly base: number;
  readonly root: PlanSelection;
  /** Assumed length of lists without `@listSize` (`COST_DEFAULT_LIST_SIZE`). */
  readonly defaultListSize: number;
  /** The estimate, when nothing in the plan depends on variables. */
  readonly fixed: number | undefined;
  readonly scoreInput: InputScorer;
}

/** The selections on a composite type: one branch per concrete type it can be (one for an object type). */
export interface PlanSelection {
  readonly branches: readonly PlanBranch[];
}

export interface PlanBranch {
  readonly typeName: string;
  /** One entry per response key, as execution merges them. */
  readonly fields: readonly PlanField[];
}

/** `@skip(if: $v)` / `@include(if: $v)`: holds when the variable's value is `expected`. */
export interface VariableCondition {
  readonly variable: string;
  readonly expected: boolean;
}

export interface PlanField {
  /** Response key (alias or name). */
  readonly key: string;
  readonly name: string;
  /** Schema coordinate, for messages. */
  readonly coordinate: string;
  /** Undefined: always selected. Else selected when all conditions of any one occurrence hold. */
  readonly when: readonly (readonly VariableCondition[])[] | undefined;
  /** `@cost` of the field, else of its type, else 1 for composite types and 0 for leaves. */
  readonly weight: number;
  readonly list: boolean;
  readonly size: SizeRule | undefined;
  /** Cost of the arguments whose values hold no variables. */
  readonly argumentCost: number;
  readonly dynamicArguments: readonly DynamicArgument[];
  readonly selection: PlanSelection | undefined;
}

/** Where one slicing argument's value comes from: a literal, a variable, or the schema default. */
export interface SlicingArgument {
  readonly name: string;
  readonly literal: number | undefined;
  readonly variable: string | undefined;
  readonly defaultValue: number | undefined;
}

export interface SizeRule {
  readonly slicing: readonly SlicingArgument[];
  readonly assumedSize: number | undefined;
  readonly requireOne: boolean;
  readonly sizedFields: ReadonlySet<string>;
}

export interface DynamicArgument {
  readonly value: ValueNode;
  readonly type: GraphQLInputType;
  readonly weight: number | undefined;
}

/** The operation cannot be costed: too large to analyse, or it breaks a `@listSize(requireOneSlicingArgument:)` contract. */
export class CostAnalysisError extends Error {
  override readonly name = 'CostAnalysisError';
  constructor(
    message: string,
    readonly reason: 'too_large' | 'slicing',
  ) {
    super(message);
  }
}

/** Most selections one compilation visits (fragments expanded); past it the operation is refused as too complex. */
export const MAX_PLAN_WORK = 50_000;

interface Source {
  readonly selectionSet: SelectionSetNode;
  readonly when: readonly VariableCondition[];
}

interface Context {
  readonly schema: GraphQLSchema;
  readonly directives: CostDirectives;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly scoreInput: InputScorer;
  work: number;
  dynamic: boolean;
}

/** Conditions a selection's `@skip`/`@include` add; null when a literal excludes it. */
function conditionsOf(directives: readonly DirectiveNode[] | undefined): VariableCondition[] | null {
  const conditions: VariableCondition[] = [];
  for (const directive of directives ?? []) {
    const include = directive.name.value === 'include';
    if (!include && directive.name.value !== 'skip') continue;
    const value = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    if (value?.kind === Kind.BOOLEAN) {
      if (value.value !== include) return null;
    } else if (value?.kind === Kind.VARIABLE) {
      conditions.push({ variable: value.name.value, expected: include });
    }
  }
  return conditions;
}

function holdsVariables(value: ValueNode): boolean {
  switch (value.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return value.values.some(holdsVariables);
    case Kind.OBJECT:
      return value.fields.some((f) => holdsVariables(f.value));
    default:
      return false;
  }
}

function applies(ctx: Context, typeCondition: string | undefined, type: GraphQLObjectType): boolean {
  if (typeCondition === undefined || typeCondition === type.name) return true;
  const condition = ctx.schema.getType(typeCondition);
  return (
    condition !== undefined &&
    isCompositeType(condition) &&
    !isObjectType(condition) &&
    ctx.schema.isSubType(condition, type)
  );
}

/** A directive value of the field, else of the same field on an interface the type implements. */
function inherited<T>(
  type: GraphQLObjectType,
  field: string,
  get: (type: string, field: string) => T | undefined,
): T | undefined {
  const own = get(type.name, field);
  if (own !== undefined) return own;
  for (const iface of type.getInterfaces()) {
    const value = get(iface.name, field);
    if (value !== undefined) return value;
  }
  return undefined;
}

function sizeRule(
  ctx: Context,
  spec: ListSizeSpec,
  definition: GraphQLField<unknown, unknown>,
  node: FieldNode,
): SizeRule {
  const slicing = spec.slicingArguments.map((name): SlicingArgument => {
    const argument: GraphQLArgument | undefined = definition.args.find((a) => a.name === name);
    const defaultValue = typeof argument?.defaultValue === 'number' ? argument.defaultValue : undefined;
    const value = node.arguments?.find((a) => a.name.value === name)?.value;
    if (value?.kind === Kind.INT)
      return { name, literal: Number.parseInt(value.value, 10), variable: undefined, defaultValue };
    if (value?.kind === Kind.VARIABLE) {
      ctx.dynamic = true;
      return { name, literal: undefined, variable: value.name.value, defaultValue };
    }
    return { name, literal: undefined, variable: undefined, defaultValue };
  });
  return {
    slicing,
    assumedSize: spec.assumedSize,
    requireOne: spec.requireOneSlicingArgument,
    sizedFields: new Set(spec.sizedFields),
  };
}

function planField(
  ctx: Context,
  type: GraphQLObjectType,
  key: string,
  nodes: FieldNode[],
  whens: VariableCondition[][],
): PlanField | undefined {
  const node = nodes[0]!;
  const name = node.name.value;
  const definition = type.getFields()[name];
  // __typename, __schema and __type are free; introspection is governed by GATEWAY_INTROSPECTION.
  if (name.startsWith('__') || !definition) return undefined;
  const named = getNamedType(definition.type);
  const { directives } = ctx;
  let argumentCost = 0;
  const dynamicArguments: DynamicArgument[] = [];
  for (const argumentNode of node.arguments ?? []) {
    const argument = definition.args.find((a) => a.name === argumentNode.name.value);
    if (!argument) continue;
    const weight =
      inherited(type, name, (t, f) => directives.argumentWeight(t, f, argument.name)) ??
      directives.typeWeight(getNamedType(argument.type).name);
    if (holdsVariables(argumentNode.value)) {
      ctx.dynamic = true;
      dynamicArguments.push({ value: argumentNode.value, type: argument.type, weight });
    } else {
      argumentCost += ctx.scoreInput(valueFromAST(argumentNode.value, argument.type), argument.type, weight);
    }
  }
  const spec = inherited(type, name, directives.listSize);
  const always = whens.some((w) => w.length === 0);
  if (!always) ctx.dynamic = true;
  const children = nodes.flatMap((n, i) => (n.selectionSet ? [{ selectionSet: n.selectionSet, when: whens[i]! }] : []));
  return {
    key,
    name,
    coordinate: `${type.name}.${name}`,
    when: always ? undefined : whens,
    weight:
      inherited(type, name, directives.fieldWeight) ??
      directives.typeWeight(named.name) ??
      (isCompositeType(named) ? 1 : 0),
    list: isListType(getNullableType(definition.type)),
    size: spec && sizeRule(ctx, spec, definition, node),
    argumentCost,
    dynamicArguments,
    selection: isCompositeType(named) && children.length > 0 ? planSelection(ctx, named, children) : undefined,
  };
}

/** Groups the selections that apply to `type` by response key, expanding fragments (graphql-js's CollectFields, statically). */
function collect(ctx: Context, type: GraphQLObjectType, sources: readonly Source[]): PlanField[] {
  const groups = new Map<string, { nodes: FieldNode[]; whens: VariableCondition[][] }>();
  const expanded = new Set<string>();
  const visit = (selectionSet: SelectionSetNode, when: readonly VariableCondition[]): void => {
    for (const selection of selectionSet.selections) {
      if (++ctx.work > MAX_PLAN_WORK)
        throw new CostAnalysisError(
          `The operation is too large to estimate (over ${MAX_PLAN_WORK} selections with fragments expanded)`,
          'too_large',
        );
      const conditions = conditionsOf(selection.directives);
      if (conditions === null) continue;
      const next = conditions.length > 0 ? [...when, ...conditions] : when;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const group = groups.get(key) ?? { nodes: [], whens: [] };
        group.nodes.push(selection);
        group.whens.push([...next]);
        groups.set(key, group);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(ctx, selection.typeCondition?.name.value, type)) visit(selection.selectionSet, next);
      } else {
        const fragment = ctx.fragments.get(selection.name.value);
        // The same fragment under the same conditions adds nothing the first spread did not.
        const mark = `${selection.name.value}|${next.map((c) => `${c.variable}=${c.expected}`).join(',')}`;
        if (!fragment || expanded.has(mark) || !applies(ctx, fragment.typeCondition.name.value, type)) continue;
        expanded.add(mark);
        visit(fragment.selectionSet, next);
      }
    }
  };
  for (const source of sources) visit(source.selectionSet, source.when);
  const fields: PlanField[] = [];
  for (const [key, { nodes, whens }] of groups) {
    const field = planField(ctx, type, key, nodes, whens);
    if (field) fields.push(field);
  }
  return fields;
}

function planSelection(ctx: Context, type: GraphQLCompositeType, sources: readonly Source[]): PlanSelection {
  const types = isObjectType(type) ? [type] : ctx.schema.getPossibleTypes(type);
  return { branches: types.map((t) => ({ typeName: t.name, fields: collect(ctx, t, sources) })) };
}

/** Options of {@link compilePlan}. */
export interface CompilePlanOptions {
  /** The API schema the operation was validated against. */
  schema: GraphQLSchema;
  directives: CostDirectives;
  scoreInput: InputScorer;
  defaultListSize: number;
  /** Evaluates a variable-free plan once; see evaluate.ts. */
  evaluate: (plan: CostPlan) => number;
}

/** Compiles a validated operation; throws CostAnalysisError if it is too large to analyse. */
export function compilePlan(
  operation: OperationDefinitionNode,
  fragments: readonly FragmentDefinitionNode[],
  options: CompilePlanOptions,
): CostPlan {
  const { schema, directives, scoreInput, defaultListSize } = options;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new CostAnalysisError(`The schema has no ${operation.operation} type`, 'too_large');
  const ctx: Context = {
    schema,
    directives,
    scoreInput,
    fragments: new Map(fragments.map((f) => [f.name.value, f])),
    work: 0,
    dynamic: false,
  };
  const root = planSelection(ctx, rootType, [{ selectionSet: operation.selectionSet, when: [] }]);
  const plan: CostPlan = {
    base: operation.operation === 'mutation' ? 10 : 0,
    root,
    defaultListSize,
    fixed: undefined,
    scoreInput,
  };
  return ctx.dynamic ? plan : { ...plan, fixed: options.evaluate(plan) };
}
