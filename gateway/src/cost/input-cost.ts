import { getNamedType, getNullableType, isInputObjectType, isListType, type GraphQLInputType } from 'graphql';
import type { CostDirectives } from './directives';

/** Scores the (coerced) value of an argument or input field; `weight` is its own `@cost`, if any. */
export type InputScorer = (value: unknown, type: GraphQLInputType, weight: number | undefined) => number;

/**
 * Argument costs as the cost spec (and Apollo) define them: an input object
 * costs its weight (default 1) plus its fields' costs, a list its weight
 * (default 0) plus each element's cost, a scalar or enum its weight (default
 * 0, or the `@cost` of its type); null costs nothing.
 */
export function createInputScorer(directives: CostDirectives): InputScorer {
  const score: InputScorer = (value, type, weight) => {
    if (value === null || value === undefined) return 0;
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      let total = weight ?? 0;
      for (const element of Array.isArray(value) ? value : [value]) total += score(element, nullable.ofType, weight);
      return total;
    }
    if (isInputObjectType(nullable)) {
      let total = weight ?? 1;
      const fields = nullable.getFields();
      for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) {
        const field = fields[name];
        if (!field) continue;
        total += score(
          fieldValue,
          field.type,
          directives.fieldWeight(nullable.name, name) ?? directives.typeWeight(getNamedType(field.type).name),
        );
      }
      return total;
    }
    return weight ?? 0;
  };
  return score;
}
