import { valueFromAST } from 'graphql';
import { CostAnalysisError, type CostPlan, type PlanField, type PlanSelection, type SizeRule } from './plan';

type Variables = Readonly<Record<string, unknown>>;

/** Sizing a parent's `@listSize(sizedFields:)` hands to its children. */
interface Sizing {
  readonly names: ReadonlySet<string>;
  readonly size: number | undefined;
}

function selected(field: PlanField, variables: Variables): boolean {
  return (
    field.when === undefined ||
    field.when.some((conditions) => conditions.every((c) => (variables[c.variable] === true) === c.expected))
  );
}

/**
 * The size a field's `@listSize` gives: the largest slicing argument set (in
 * the query, through a variable, or by its schema default), else `assumedSize`.
 */
function expectedSize(field: PlanField, rule: SizeRule, variables: Variables): number | undefined {
  let set = 0;
  let largest: number | undefined;
  for (const argument of rule.slicing) {
    let value = argument.defaultValue;
    if (argument.literal !== undefined) value = argument.literal;
    else if (argument.variable !== undefined && typeof variables[argument.variable] === 'number')
      value = variables[argument.variable] as number;
    if (value === undefined) continue;
    set += 1;
    largest = largest === undefined ? value : Math.max(largest, value);
  }
  if (rule.requireOne && rule.slicing.length > 0 && set !== 1) {
    const names = rule.slicing.map((a) => a.name).join(', ');
    throw new CostAnalysisError(
      `${field.coordinate} needs exactly one of its slicing arguments (${names}), got ${set}`,
      'slicing',
    );
  }
  return largest === undefined ? rule.assumedSize : Math.max(0, largest);
}

function argumentCost(plan: CostPlan, field: PlanField, variables: Variables): number {
  let cost = field.argumentCost;
  for (const { value, type, weight } of field.dynamicArguments)
    cost += plan.scoreInput(valueFromAST(value, type, variables), type, weight);
  return cost;
}

function estimateSelection(
  plan: CostPlan,
  selection: PlanSelection,
  variables: Variables,
  sizing: Sizing | undefined,
): number {
  let most = 0;
  for (const branch of selection.branches) {
    let sum = 0;
    for (const field of branch.fields) sum += estimateField(plan, field, variables, sizing);
    most = Math.max(most, sum);
  }
  return most;
}

function estimateField(plan: CostPlan, field: PlanField, variables: Variables, sizing: Sizing | undefined): number {
  if (!selected(field, variables)) return 0;
  const expected = field.size && expectedSize(field, field.size, variables);
  const fromParent = sizing?.names.has(field.name) ? sizing.size : undefined;
  const count = field.list ? (fromParent ?? expected ?? plan.defaultListSize) : 1;
  const childSizing =
    field.size && field.size.sizedFields.size > 0 ? { names: field.size.sizedFields, size: expected } : undefined;
  const children = field.selection ? estimateSelection(plan, field.selection, variables, childSizing) : 0;
  return count * (field.weight + children) + argumentCost(plan, field, variables);
}

/**
 * The static estimate (IBM cost spec semantics as Apollo implements them):
 * per field, `count × (weight + children) + arguments`, where `count` is 1,
 * or for lists the size from the parent's `sizedFields`, the field's
 * `@listSize`, or the default list size; abstract types cost their most
 * expensive concrete type; mutations add 10. Throws CostAnalysisError when a
 * `@listSize(requireOneSlicingArgument: true)` field does not get exactly one.
 */
export function estimateCost(plan: CostPlan, variables: Variables): number {
  return plan.fixed ?? plan.base + estimateSelection(plan, plan.root, variables, undefined);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function actualSelection(
  plan: CostPlan,
  selection: PlanSelection,
  variables: Variables,
  data: Record<string, unknown>,
): number {
  // Responses name their concrete type only when asked (__typename); otherwise take the dearest branch.
  const typename = data.__typename;
  const known = typeof typename === 'string' ? selection.branches.filter((b) => b.typeName === typename) : [];
  let most = 0;
  for (const branch of known.length > 0 ? known : selection.branches) {
    let sum = 0;
    for (const field of branch.fields) sum += actualField(plan, field, variables, data);
    most = Math.max(most, sum);
  }
  return most;
}

function actualElement(plan: CostPlan, field: PlanField, variables: Variables, value: unknown): number {
  if (Array.isArray(value))
    return value.reduce((sum: number, element) => sum + actualElement(plan, field, variables, element), 0);
  return (
    field.weight + (field.selection && isObject(value) ? actualSelection(plan, field.selection, variables, value) : 0)
  );
}

function actualField(plan: CostPlan, field: PlanField, variables: Variables, data: Record<string, unknown>): number {
  if (!Object.hasOwn(data, field.key)) return 0;
  const value = data[field.key];
  const own = field.list && !Array.isArray(value) ? 0 : actualElement(plan, field, variables, value);
  return own + argumentCost(plan, field, variables);
}

/**
 * The cost of what was actually returned: the same formula with every list
 * at its real length (a null list is empty). `data` is the response's `data`;
 * undefined when the operation never executed, which costs nothing.
 */
export function actualCost(plan: CostPlan, variables: Variables, data: unknown): number {
  if (data === undefined) return 0;
  return plan.base + (isObject(data) ? actualSelection(plan, plan.root, variables, data) : 0);
}
