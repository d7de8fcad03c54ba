import type { QueryPlan } from '@apollo/query-planner';
import type { OperationContext } from '@apollo/gateway/dist/operationContext.js';
import {
  Kind,
  OperationTypeNode,
  executeSync,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from 'graphql';
import { TypeTester } from './merge';
import { compilePlan, type CompiledPlan } from './plan';
import { ShapeCompiler, type ResponseShaper } from './shape';
import { getOwn } from './own';

/** Everything one cached plan needs at run time, built on its first request. */
export interface CompiledOperation {
  readonly plan: CompiledPlan;
  readonly shaper: ResponseShaper;
  /** Default values of the operation's variables (null when it has none). */
  readonly defaults: Readonly<Record<string, unknown>> | null;
  /** Runs a root introspection field (`__schema`, `__type`) with graphql-js on the API schema. */
  readonly introspect: (field: FieldNode, variables: Readonly<Record<string, unknown>> | undefined) => unknown;
}

/**
 * Compiles plans for one supergraph (one API schema and one supergraph
 * schema): a compiled operation is kept with its plan (a WeakMap on the plan
 * object of ApolloGateway's plan cache), so it lives exactly as long as the
 * plan, and a supergraph change, which clears the plan cache, drops it too.
 */
export class OperationCompiler {
  readonly #compiled = new WeakMap<QueryPlan, CompiledOperation>();
  readonly #shapes: ShapeCompiler;
  readonly #types: TypeTester;

  constructor(apiSchema: GraphQLSchema, supergraphSchema: GraphQLSchema) {
    this.#shapes = new ShapeCompiler(apiSchema);
    this.#types = new TypeTester(supergraphSchema);
  }

  compiled(plan: QueryPlan, operation: OperationContext): CompiledOperation {
    let compiled = this.#compiled.get(plan);
    if (!compiled) {
      compiled = this.#compile(plan, operation);
      this.#compiled.set(plan, compiled);
    }
    return compiled;
  }

  #compile(plan: QueryPlan, { operation, fragments, schema }: OperationContext): CompiledOperation {
    const root = schema.getRootType(operation.operation);
    if (!root) throw new Error(`The schema has no ${operation.operation} type`);
    return {
      plan: compilePlan(plan, this.#types),
      shaper: this.#shapes.compile(root, operation.selectionSet, fragments),
      defaults: defaultsOf(operation.variableDefinitions),
      introspect: introspection(schema, operation.variableDefinitions ?? [], fragments),
    };
  }
}

function defaultsOf(definitions: readonly VariableDefinitionNode[] | undefined): Record<string, unknown> | null {
  const withDefault = definitions?.filter((d) => d.defaultValue) ?? [];
  if (withDefault.length === 0) return null;
  const defaults = Object.create(null) as Record<string, unknown>;
  for (const definition of withDefault)
    defaults[definition.variable.name.value] = valueFromASTUntyped(definition.defaultValue!);
  return defaults;
}

/** Names of the variables a field uses, through the fragments it spreads (each fragment visited once). */
function usedVariables(field: FieldNode, fragments: Readonly<Record<string, FragmentDefinitionNode>>): Set<string> {
  const used = new Set<string>();
  const seen = new Set<string>();
  const pending: (FieldNode | FragmentDefinitionNode)[] = [field];
  while (pending.length > 0) {
    visit(pending.pop()!, {
      Variable: (node) => void used.add(node.name.value),
      FragmentSpread: (node) => {
        const fragment = fragments[node.name.value];
        if (fragment && !seen.has(fragment.name.value)) {
          seen.add(fragment.name.value);
          pending.push(fragment);
        }
      },
    });
  }
  return used;
}

function introspection(
  schema: GraphQLSchema,
  definitions: readonly VariableDefinitionNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): CompiledOperation['introspect'] {
  const documents = new Map<FieldNode, DocumentNode>();
  return (field, variables) => {
    let document = documents.get(field);
    if (!document) {
      const used = usedVariables(field, fragments);
      document = {
        kind: Kind.DOCUMENT,
        definitions: [
          {
            kind: Kind.OPERATION_DEFINITION,
            operation: OperationTypeNode.QUERY,
            variableDefinitions: definitions.filter((d) => used.has(d.variable.name.value)),
            selectionSet: { kind: Kind.SELECTION_SET, selections: [field] },
          },
          ...Object.values(fragments),
        ],
      };
      documents.set(field, document);
    }
    const { data, errors } = executeSync({ schema, document, rootValue: {}, variableValues: variables });
    if ((errors && errors.length > 0) || !data)
      throw new Error(
        `Introspection query for ${field.name.value} should not have failed but got ${JSON.stringify(errors)}`,
      );
    return getOwn(data, (field.alias ?? field.name).value);
  };
}
