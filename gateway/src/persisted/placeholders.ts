import {
  Kind,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  typeFromAST,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

const SCALARS: Record<string, unknown> = { ID: '0', String: '', Int: 0, Float: 0, Boolean: false };

function placeholder(type: GraphQLInputType, depth: number): unknown {
  if (!isNonNullType(type)) return null;
  const inner = type.ofType;
  if (isListType(inner)) return [];
  if (isEnumType(inner)) return inner.getValues()[0]?.value ?? null;
  if (isScalarType(inner)) return SCALARS[inner.name] ?? '0';
  if (isInputObjectType(inner) && depth < 8) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(inner.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined)
        value[field.name] = placeholder(field.type, depth + 1);
    }
    return value;
  }
  return null;
}

/**
 * Values that satisfy an operation's variable definitions, so the gateway
 * (which validates variables before planning) plans it during warm-up.
 * The values never reach a subgraph.
 */
export function placeholderVariables(
  schema: GraphQLSchema,
  body: string,
  operationName: string | undefined,
): Record<string, unknown> {
  const document = parse(body);
  const operation = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const variables: Record<string, unknown> = {};
  if (operation?.kind !== Kind.OPERATION_DEFINITION) return variables;
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) continue;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (type && isNonNullType(type)) variables[definition.variable.name.value] = placeholder(type, 0);
  }
  return variables;
}
