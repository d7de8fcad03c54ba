import {
  Kind,
  getVariableValues,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { readCostDirectives } from './directives';
import { actualCost, estimateCost } from './evaluate';
import { createInputScorer } from './input-cost';
import { compilePlan, type CostPlan } from './plan';

/** Options of {@link createCostEstimator}. */
export interface CostEstimatorOptions {
  /** The API schema operations are validated against. */
  schema: GraphQLSchema;
  /** The core supergraph SDL: where `@cost` and `@listSize` are read from (none without it). */
  supergraphSdl: string | undefined;
  /** Assumed length of lists without `@listSize`. */
  defaultListSize: number;
}

/** Estimates and measures operation costs against one supergraph. */
export interface CostEstimator {
  /**
   * The cost plan of `operation` in `document`, compiled once per document
   * object (Apollo Server reuses parsed documents) and kept while the document
   * is. Throws CostAnalysisError if the operation is too large to analyse.
   */
  plan(document: DocumentNode, operation: OperationDefinitionNode): CostPlan;
  /** Coerces request variables as execution will; undefined when they are invalid (execution rejects them). */
  variables(
    operation: OperationDefinitionNode,
    raw: Readonly<Record<string, unknown>> | undefined,
  ): Record<string, unknown> | undefined;
  estimate(plan: CostPlan, variables: Readonly<Record<string, unknown>>): number;
  actual(plan: CostPlan, variables: Readonly<Record<string, unknown>>, data: unknown): number;
}

export function createCostEstimator({ schema, supergraphSdl, defaultListSize }: CostEstimatorOptions): CostEstimator {
  const directives = readCostDirectives(supergraphSdl);
  const scoreInput = createInputScorer(directives);
  const plans = new WeakMap<DocumentNode, Map<OperationDefinitionNode, CostPlan>>();
  const noVariables = Object.freeze({});

  return {
    plan(document, operation) {
      let byOperation = plans.get(document);
      const cached = byOperation?.get(operation);
      if (cached) return cached;
      const fragments = document.definitions.filter(
        (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
      );
      const plan = compilePlan(operation, fragments, {
        schema,
        directives,
        scoreInput,
        defaultListSize,
        evaluate: (p) => estimateCost(p, noVariables),
      });
      if (!byOperation) plans.set(document, (byOperation = new Map()));
      byOperation.set(operation, plan);
      return plan;
    },
    variables(operation, raw) {
      if (!operation.variableDefinitions?.length) return noVariables;
      const { coerced } = getVariableValues(schema, operation.variableDefinitions, raw ?? {}, { maxErrors: 1 });
      return coerced;
    },
    estimate: estimateCost,
    actual: actualCost,
  };
}
