import type { FetchDataRewrite, QueryPlanSelectionNode } from '@apollo/query-planner';
import type { GraphQLSchema } from 'graphql';
import { matchesCondition } from './type-condition';
import { defineOwn, getOwn } from './own';

/**
 * What a fetch does with the merged result: collect the representations it
 * needs, rewrite them, merge what the subgraph answered into it. Each is
 * compiled once per fetch of a cached plan; the semantics are
 * @apollo/gateway's (`executeSelectionSet`, `applyRewrites`, `deepMerge`).
 */

type Value = Record<string, unknown>;

function isObject(value: unknown): value is Value {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const INHERITED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Merges `source` into `target` in place: objects field by field, lists of equal length element by element. */
export function mergeInto(target: Value, source: unknown): void {
  if (source === undefined || source === null) return;
  const from = source as Value;
  for (const key of Object.keys(from)) {
    const value = from[key];
    if (value === undefined) continue;
    // Only a name Object.prototype has can be found on the target without being its own.
    if (INHERITED.has(key)) defineOwn(target, key);
    const existing = target[key];
    if (existing && isObject(value)) {
      mergeInto(existing as Value, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        const element = value[i] as unknown;
        if (isObject(existing[i]) && isObject(element)) mergeInto(existing[i] as Value, element);
        else existing[i] = element;
      }
    } else {
      target[key] = value;
    }
  }
}

/** `isObjectOfType` of @apollo/gateway's data rewrites, memoized per (type, condition). */
export class TypeTester {
  readonly #schema: GraphQLSchema;
  readonly #memo = new Map<string, boolean>();

  constructor(schema: GraphQLSchema) {
    this.#schema = schema;
  }

  /** Whether `object` (by its __typename) is of `condition`; `whenUntyped` when it has no __typename. */
  test(object: Value, condition: string, whenUntyped = false): boolean {
    const typename = object.__typename;
    if (!typename) return whenUntyped;
    if (typename === condition) return true;
    const key = `${String(typename)}\0${condition}`;
    let result = this.#memo.get(key);
    if (result === undefined) {
      result = matchesCondition(this.#schema, condition, String(typename));
      this.#memo.set(key, result);
    }
    return result;
  }
}

/** Builds one entity's representation from the merged result, or null when a required field is missing. */
export type RepresentationCollector = (source: Value) => Value | null;

export function compileRequires(
  selections: readonly QueryPlanSelectionNode[],
  types: TypeTester,
): RepresentationCollector {
  const steps = selections.map((selection) =>
    selection.kind === 'Field'
      ? {
          field: true as const,
          name: selection.alias ?? selection.name,
          sub: selection.selections ? compileRequires(selection.selections, types) : undefined,
        }
      : {
          field: false as const,
          typeCondition: selection.typeCondition,
          sub: compileRequires(selection.selections, types),
        },
  );
  const collect = (source: Value | null): Value | null => {
    if (source === null) return null;
    const result: Value = {};
    for (const step of steps) {
      if (step.field) {
        const value = Object.hasOwn(source, step.name) ? source[step.name] : undefined;
        if (value === undefined) return null;
        const sub = step.sub;
        if (Array.isArray(value)) result[step.name] = sub ? value.map((v) => sub(v as Value)) : value;
        else result[step.name] = sub ? sub(value as Value) : value;
      } else if (step.typeCondition && types.test(source, step.typeCondition)) {
        mergeInto(result, step.sub(source));
      }
    }
    return result;
  };
  return collect as RepresentationCollector;
}

/** Applies a fetch's input or output rewrites to a value in place (no-op without rewrites). */
export type Rewriter = (value: unknown) => void;

export function compileRewrites(rewrites: readonly FetchDataRewrite[] | undefined, types: TypeTester): Rewriter {
  if (!rewrites || rewrites.length === 0) return () => undefined;
  const compiled = rewrites
    .filter((rewrite) => rewrite.path.length > 0)
    .map((rewrite) => {
      const parent = rewrite.path
        .slice(0, -1)
        .map((element) =>
          element.startsWith('... on ')
            ? { field: undefined, type: element.slice('... on '.length) }
            : { field: element, type: undefined },
        );
      const last = rewrite.path[rewrite.path.length - 1]!;
      if (last.startsWith('... on '))
        throw new Error(`Unexpected fragment as last element of ${rewrite.path.join(',')}`);
      const apply =
        rewrite.kind === 'ValueSetter'
          ? (object: Value) => {
              defineOwn(object, last);
              object[last] = rewrite.setValueTo;
            }
          : (object: Value) => {
              const value = getOwn(object, last);
              if (value) {
                defineOwn(object, rewrite.renameKeyTo);
                object[rewrite.renameKeyTo] = value;
                object[last] = undefined;
              }
            };
      const at = (value: unknown, index: number): void => {
        if (Array.isArray(value)) {
          for (const element of value) at(element, index);
          return;
        }
        if (typeof value !== 'object' || value === null) return;
        if (index === parent.length) {
          apply(value as Value);
          return;
        }
        const element = parent[index]!;
        if (element.field !== undefined) at(getOwn(value, element.field), index + 1);
        else if (types.test(value as Value, element.type, true)) at(value, index + 1);
      };
      return (value: unknown) => at(value, 0);
    });
  return (value) => {
    for (const rewrite of compiled) rewrite(value);
  };
}
