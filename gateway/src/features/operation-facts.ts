import type { GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { Kind, getVariableValues, type FragmentDefinitionNode } from 'graphql';
// Execution's own field collection: @skip/@include and type conditions applied, each fragment visited once.
import { collectFields } from 'graphql/execution/collectFields.js';
import type { GatewayContext } from '../context';
import type { OperationFacts } from './feature';

/**
 * The facts of a resolved operation that policies check on a later cache hit
 * (cost is added by the cost feature): name, type, and one `Type.field` per
 * root response key. Undefined when the operation did not resolve or its
 * variables do not coerce.
 */
export function operationFacts(
  requestContext: GraphQLRequestContextWillSendResponse<GatewayContext>,
): Omit<OperationFacts, 'cost'> | undefined {
  const { operation, document, schema, request } = requestContext;
  const rootType = operation && schema.getRootType(operation.operation);
  if (!operation || !rootType || !document) return undefined;
  const { coerced } = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, {
    maxErrors: 1,
  });
  if (!coerced) return undefined;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  const rootFields: string[] = [];
  for (const [, [field]] of collectFields(schema, fragments, coerced, rootType, operation.selectionSet)) {
    if (field) rootFields.push(`${rootType.name}.${field.name.value}`);
  }
  const { access } = requestContext.contextValue.outcome;
  return {
    operationName: operation.name?.value ?? null,
    operationType: operation.operation,
    rootFields,
    ...(access ? { access } : {}),
  };
}
