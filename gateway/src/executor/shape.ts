import {
  GraphQLList,
  type GraphQLError,
  GraphQLNonNull,
  Kind,
  isCompositeType,
  isEnumType,
  isInterfaceType,
  isObjectType,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';
import { ERRORS } from '@apollo/federation-internals';
import { introspectionSelection } from './introspection-selection';
import { groupSelections, mergedSelectionSet } from './selection-keys';
import { matchesCondition } from './type-condition';
import { getOwn, setOwn } from './own';

/**
 * The response shaper of one operation, compiled once per cached plan: from
 * the merged subgraph results it writes the client's answer in one pass:
 * response names (aliases), `__typename`, `@skip`/`@include`, fragments on
 * abstract types, null propagation by the API schema's nullability, and the
 * INVALID_GRAPHQL value-completion errors, exactly as @apollo/gateway's
 * `computeResponse` does (same output key order, same messages, same paths),
 * without re-reading the operation or its directives per request.
 */

/** A `@skip`/`@include` argument: a literal, or the name of a variable. */
type IfArgument = boolean | { readonly variable: string };

interface Condition {
  readonly skip?: IfArgument;
  readonly include?: IfArgument;
}

const FIELD = 0;
const TYPENAME = 1;
const INTROSPECTION = 2;
const FRAGMENT = 3;

interface FieldStep {
  readonly kind: typeof FIELD;
  readonly responseName: string;
  /** The response name is `__proto__`: read and written as an own property (answers are plain objects). */
  readonly guarded: boolean;
  readonly condition: Condition | undefined;
  readonly type: TypeShape;
  /** The selection under a composite field (compiled on first use). */
  readonly selections: Selections | undefined;
}

interface TypenameStep {
  readonly kind: typeof TYPENAME;
  readonly responseName: string;
  readonly guarded: boolean;
  readonly condition: Condition | undefined;
}

interface IntrospectionStep {
  readonly kind: typeof INTROSPECTION;
  readonly responseName: string;
  readonly guarded: boolean;
  readonly condition: Condition | undefined;
  readonly field: FieldNode;
}

interface FragmentStep {
  readonly kind: typeof FRAGMENT;
  readonly condition: Condition | undefined;
  /** Undefined for `... { }` without a type condition. */
  readonly typeCondition: string | undefined;
  /** Whether the condition applies to a type name (computed once per name). */
  readonly applies: Map<string, boolean>;
  readonly selections: Selections;
}

type Step = FieldStep | TypenameStep | IntrospectionStep | FragmentStep;

/** A selection set in a static type, compiled when first reached. */
interface Selections {
  readonly node: SelectionSetNode;
  readonly parent: GraphQLCompositeType;
  steps: readonly Step[] | undefined;
}

const NON_NULL = 0;
const LIST = 1;
const COMPOSITE = 2;
const LEAF = 3;

type TypeShape =
  | { readonly kind: typeof NON_NULL; readonly of: TypeShape; readonly text: string }
  | { readonly kind: typeof LIST; readonly of: TypeShape; readonly text: string }
  | { readonly kind: typeof COMPOSITE; readonly name: string; readonly text: string }
  | { readonly kind: typeof LEAF; readonly valid: (value: unknown) => boolean; readonly text: string };

/** Per request: the values and the errors of one shaping pass. */
interface Run {
  readonly variables: Readonly<Record<string, unknown>>;
  readonly errors: GraphQLError[];
  readonly introspect: (field: FieldNode) => unknown;
  /** Set by {@link update}: the value is invalid (a non-null field is null), its parent must become null. */
  invalid: boolean;
  /** Set by {@link update}: an error was already reported for this value. */
  hasErrors: boolean;
}

const OK = 0;
const NULL_BUBBLE_UP = 1;

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** Compiled shapes of one API schema. */
export class ShapeCompiler {
  readonly #schema: GraphQLSchema;
  readonly #leaves = new Map<string, (value: unknown) => boolean>();
  readonly #types = new Map<string, TypeShape>();

  constructor(schema: GraphQLSchema) {
    this.#schema = schema;
  }

  /** The shaper of an operation's root selection set. */
  compile(
    root: GraphQLCompositeType,
    selectionSet: SelectionSetNode,
    fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  ): ResponseShaper {
    return new ResponseShaper(this, { node: selectionSet, parent: root, steps: undefined }, fragments, root.name);
  }

  /**
   * The steps of a selection set (memoized on it). Selections with the same
   * key (response name or fragment, and directives) are merged at the place
   * of the first, their sub-selections concatenated, as federation-internals
   * normalizes the operation Apollo shapes from: this decides the key order.
   */
  steps(selections: Selections, operation: OperationFragments): readonly Step[] {
    if (selections.steps) return selections.steps;
    const steps: Step[] = [];
    const parent = selections.parent;
    for (const group of groupSelections(selections.node.selections)) {
      const selection = group[0]!;
      const condition = conditionOf(selection.directives);
      if (selection.kind === Kind.FIELD) {
        const responseName = (selection.alias ?? selection.name).value;
        const guarded = responseName in Object.prototype;
        const name = selection.name.value;
        const merged = mergedSelectionSet(group as FieldNode[]);
        if (name === '__typename') {
          steps.push({ kind: TYPENAME, responseName, guarded, condition });
        } else if (name === '__schema' || name === '__type') {
          const field = introspectionSelection(this.#schema, selection, group as FieldNode[], operation.fragments);
          steps.push({ kind: INTROSPECTION, responseName, guarded, condition, field });
        } else {
          const definition = fieldOf(parent, name);
          const named = namedType(definition.type);
          steps.push({
            kind: FIELD,
            responseName,
            guarded,
            condition,
            type: this.#shape(definition.type),
            selections:
              merged && isCompositeType(named) ? { node: merged, parent: named, steps: undefined } : undefined,
          });
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeCondition = selection.typeCondition?.name.value;
        steps.push({
          kind: FRAGMENT,
          condition,
          typeCondition,
          applies: new Map(),
          selections: {
            node: mergedSelectionSet(group as InlineFragmentNode[])!,
            parent: typeCondition === undefined ? parent : this.#composite(typeCondition),
            steps: undefined,
          },
        });
      } else {
        const fragment = operation.fragments[selection.name.value];
        if (!fragment) throw new Error(`Unknown fragment "${selection.name.value}"`);
        const typeCondition = fragment.typeCondition.name.value;
        let shared = operation.spreads.get(fragment.name.value);
        if (!shared) {
          shared = { node: fragment.selectionSet, parent: this.#composite(typeCondition), steps: undefined };
          operation.spreads.set(fragment.name.value, shared);
        }
        steps.push({ kind: FRAGMENT, condition, typeCondition, applies: new Map(), selections: shared });
      }
    }
    selections.steps = steps;
    return steps;
  }

  #composite(name: string): GraphQLCompositeType {
    const type = this.#schema.getType(name);
    if (!type || !isCompositeType(type)) throw new Error(`Unknown type "${name}"`);
    return type;
  }

  /** Whether a value of `typeName` matches the fragment condition `condition`. */
  isSubtype(condition: string, typeName: string): boolean {
    return matchesCondition(this.#schema, condition, typeName);
  }

  type(name: string): GraphQLNamedType | undefined {
    return this.#schema.getType(name) ?? undefined;
  }

  #shape(type: GraphQLOutputType): TypeShape {
    const text = String(type);
    let shape = this.#types.get(text);
    if (shape) return shape;
    if (type instanceof GraphQLNonNull) shape = { kind: NON_NULL, of: this.#shape(type.ofType), text };
    else if (type instanceof GraphQLList) shape = { kind: LIST, of: this.#shape(type.ofType), text };
    else if (isCompositeType(type)) shape = { kind: COMPOSITE, name: type.name, text };
    else shape = { kind: LEAF, valid: this.#leaf(type), text };
    this.#types.set(text, shape);
    return shape;
  }

  /** federation-internals' `isValidLeafValue` for one leaf type. */
  #leaf(type: GraphQLNamedType): (value: unknown) => boolean {
    let valid = this.#leaves.get(type.name);
    if (valid) return valid;
    const name = type.name;
    if (isEnumType(type)) {
      valid = (value) => typeof value === 'string' && type.getValue(value) !== undefined;
    } else if (!['Int', 'Float', 'String', 'Boolean', 'ID'].includes(name)) {
      valid = () => true;
    } else {
      valid = (value) => {
        if (typeof value === 'boolean') return name === 'Boolean';
        if (typeof value === 'number' && Number.isFinite(value)) {
          if (name === 'Int' || name === 'ID') return INTEGER.test(String(value));
          return name === 'Float';
        }
        if (typeof value === 'string') return name !== 'Boolean' && name !== 'Int' && name !== 'Float';
        return false;
      };
    }
    this.#leaves.set(name, valid);
    return valid;
  }
}

/** The compiled answer-writer of one operation. */
export class ResponseShaper {
  readonly #compiler: ShapeCompiler;
  readonly #root: Selections;
  readonly #operation: OperationFragments;
  readonly #rootName: string;

  constructor(
    compiler: ShapeCompiler,
    root: Selections,
    fragments: Readonly<Record<string, FragmentDefinitionNode>>,
    rootName: string,
  ) {
    this.#compiler = compiler;
    this.#root = root;
    this.#operation = { fragments, spreads: new Map() };
    this.#rootName = rootName;
  }

  /**
   * The client's data from the merged results, and the value-completion
   * errors (Apollo reports them in `extensions.valueCompletion`).
   * Throws on a result no schema allows (a list where an object belongs, …), as Apollo's asserts do.
   */
  shape(
    input: Record<string, unknown>,
    variables: Readonly<Record<string, unknown>>,
    introspect: (field: FieldNode) => unknown,
  ): { data: Record<string, unknown> | null; errors: GraphQLError[] } {
    const run: Run = { variables, errors: [], introspect, invalid: false, hasErrors: false };
    const data: Record<string, unknown> = {};
    const result = this.#apply(input, this.#root, data, run, [], this.#rootName);
    return { data: result === NULL_BUBBLE_UP ? null : data, errors: run.errors };
  }

  #apply(
    input: Record<string, unknown>,
    selections: Selections,
    output: Record<string, unknown>,
    run: Run,
    path: (string | number)[],
    parentType: string,
  ): number {
    const steps = selections.steps ?? this.#compiler.steps(selections, this.#operation);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (step.condition !== undefined && skipped(step.condition, run.variables)) continue;
      switch (step.kind) {
        case FIELD: {
          const name = step.responseName;
          const inputValue = step.guarded
            ? Object.hasOwn(input, name)
              ? (input[name] ?? null)
              : null
            : (input[name] ?? null);
          path.push(name);
          const current = step.guarded ? getOwn(output, name) : output[name];
          const updated = this.#update(current, step.type, inputValue, step.selections, path, run, parentType);
          if (step.guarded) setOwn(output, name, updated);
          else output[name] = updated;
          path.pop();
          if (run.invalid) return NULL_BUBBLE_UP;
          break;
        }
        case TYPENAME: {
          const name = step.responseName;
          if ((step.guarded ? getOwn(output, name) : output[name]) !== undefined) break;
          let value = Object.hasOwn(input, name) ? (input[name] ?? null) : null;
          if (value === null && name !== '__typename') value = input.__typename ?? null;
          const type = (typeof value === 'string' && this.#compiler.type(value)) || this.#compiler.type(parentType);
          if (!isObjectType(type)) return NULL_BUBBLE_UP;
          setOwn(output, name, type.name);
          break;
        }
        case INTROSPECTION:
          if ((step.guarded ? getOwn(output, step.responseName) : output[step.responseName]) === undefined)
            setOwn(output, step.responseName, run.introspect(step.field));
          break;
        case FRAGMENT: {
          const typename = input.__typename;
          if (typename && typeof typename !== 'string')
            throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
          // With a __typename the runtime type decides (and must exist); without one, the parent type.
          if (step.typeCondition !== undefined && !this.#applies(step, (typename as string) || parentType)) break;
          const result = this.#apply(input, step.selections, output, run, path, step.typeCondition ?? parentType);
          if (result === NULL_BUBBLE_UP) return NULL_BUBBLE_UP;
          break;
        }
      }
    }
    return OK;
  }

  #applies(step: FragmentStep, typeName: string): boolean {
    let applies = step.applies.get(typeName);
    if (applies === undefined) {
      applies = this.#compiler.type(typeName) !== undefined && this.#compiler.isSubtype(step.typeCondition!, typeName);
      step.applies.set(typeName, applies);
    }
    return applies;
  }

  /** Apollo's `updateOutputValue`; the flags of the result are left in `run.invalid` and `run.hasErrors`. */
  #update(
    outputValue: unknown,
    type: TypeShape,
    inputValue: unknown,
    selections: Selections | undefined,
    path: (string | number)[],
    run: Run,
    parentType: string,
  ): unknown {
    run.invalid = false;
    run.hasErrors = false;
    if (outputValue === null || (outputValue !== undefined && selections === undefined)) return outputValue;
    switch (type.kind) {
      case NON_NULL: {
        const updated = this.#update(outputValue, type.of, inputValue, selections, path, run, parentType);
        if (updated === null) {
          if (!run.hasErrors)
            run.errors.push(
              ERRORS.INVALID_GRAPHQL.err(
                `Cannot return null for non-nullable ${describeLast(path, type.of.text, parentType)}.`,
                { path: path.slice() },
              ),
            );
          run.invalid = true;
          run.hasErrors = true;
          return null;
        }
        run.invalid = false;
        run.hasErrors = false;
        return updated;
      }
      case LIST: {
        if (inputValue === null) return null;
        if (!Array.isArray(inputValue))
          throw new Error(
            `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${type.text}`,
          );
        if (outputValue !== undefined && !Array.isArray(outputValue))
          throw new Error(
            `Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${type.text}`,
          );
        const existing = outputValue as unknown[] | undefined;
        const length = existing ? existing.length : inputValue.length;
        if (inputValue.length !== length)
          throw new Error(
            `[${String(inputValue)}].length (${inputValue.length}) !== [${String(existing)}].length (${length})`,
          );
        const updated = new Array<unknown>(length);
        let nullify = false;
        let hasErrors = false;
        for (let index = 0; index < length; index++) {
          path.push(index);
          updated[index] = this.#update(
            existing ? existing[index] : undefined,
            type.of,
            inputValue[index],
            selections,
            path,
            run,
            parentType,
          );
          path.pop();
          if (run.invalid) nullify = true;
          if (run.hasErrors) hasErrors = true;
        }
        run.invalid = false;
        run.hasErrors = hasErrors;
        return nullify ? null : updated;
      }
      case COMPOSITE: {
        if (inputValue === null) return null;
        if (!selections) throw new Error(`Invalid empty selection set for composite type ${type.text}`);
        if (typeof inputValue !== 'object')
          throw new Error(
            `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${type.text}`,
          );
        if (outputValue !== undefined && typeof outputValue !== 'object')
          throw new Error(
            `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${type.text}`,
          );
        const object = inputValue as Record<string, unknown>;
        const typename = object.__typename;
        if (typename !== undefined && typeof typename !== 'string')
          throw new Error(`Invalid non-string value ${String(typename)} for __typename at ${path.join(',')}`);
        let objectType = type.name;
        if (typename) {
          const runtime = this.#compiler.type(typename);
          if (!runtime || !isCompositeType(runtime)) {
            run.errors.push(
              ERRORS.INVALID_GRAPHQL.err(
                `Invalid __typename found for object at ${describeLast(path, type.text, parentType)}.`,
                { path: path.slice() },
              ),
            );
            run.hasErrors = true;
            return null;
          }
          objectType = typename;
        }
        const output = outputValue === undefined ? {} : outputValue;
        const result = this.#apply(object, selections, output as Record<string, unknown>, run, path, objectType);
        run.invalid = false;
        run.hasErrors = result === NULL_BUBBLE_UP;
        return result === NULL_BUBBLE_UP ? null : output;
      }
      case LEAF: {
        if (inputValue === null) return null;
        if (outputValue !== undefined)
          throw new Error(`Excepted output to be undefined but got ${type.text} for type ${type.text}`);
        if (type.valid(inputValue)) return inputValue;
        run.errors.push(
          ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, type.text, parentType)}.`, {
            path: path.slice(),
          }),
        );
        run.hasErrors = true;
        return null;
      }
    }
  }
}

/** The fragments of one operation, and the compiled selection of each (shared by every spread of it). */
interface OperationFragments {
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  readonly spreads: Map<string, Selections>;
}

function describeLast(path: readonly (string | number)[], currentType: string, parentType: string): string {
  const element = path[path.length - 1];
  return typeof element === 'string'
    ? `field ${parentType}.${element}`
    : `array element of type ${currentType} at index ${String(element)}`;
}

function fieldOf(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> {
  const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  if (!field) throw new Error(`Cannot query field "${name}" on type "${parent.name}"`);
  return field;
}

function namedType(type: GraphQLOutputType): GraphQLNamedType {
  let at: GraphQLOutputType = type;
  while (at instanceof GraphQLNonNull || at instanceof GraphQLList) at = at.ofType as GraphQLOutputType;
  return at;
}

function ifArgument(directive: DirectiveNode): IfArgument {
  const value = directive.arguments?.find((a) => a.name.value === 'if')?.value;
  if (value?.kind === Kind.VARIABLE) return { variable: value.name.value };
  return value?.kind === Kind.BOOLEAN ? value.value : false;
}

function conditionOf(directives: readonly DirectiveNode[] | undefined): Condition | undefined {
  if (!directives || directives.length === 0) return undefined;
  const skip = directives.find((d) => d.name.value === 'skip');
  const include = directives.find((d) => d.name.value === 'include');
  if (!skip && !include) return undefined;
  return { ...(skip ? { skip: ifArgument(skip) } : {}), ...(include ? { include: ifArgument(include) } : {}) };
}

function ifValue(argument: IfArgument, name: string, variables: Readonly<Record<string, unknown>>): boolean {
  if (typeof argument === 'boolean') return argument;
  const value = variables[argument.variable];
  if (typeof value !== 'boolean')
    throw new Error(
      `Unexpected value ${String(value)} for variable $${argument.variable} of @${name}(if: $${argument.variable})`,
    );
  return value;
}

function skipped(condition: Condition, variables: Readonly<Record<string, unknown>>): boolean {
  if (condition.skip !== undefined && ifValue(condition.skip, 'skip', variables)) return true;
  return condition.include !== undefined && !ifValue(condition.include, 'include', variables);
}
