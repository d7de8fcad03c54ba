import { isAbstractType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';

/**
 * Whether a value of type `typeName` matches the type condition `condition`
 * (federation-internals' `isSubtype` on named types, as @apollo/gateway
 * applies it to fragments and rewrites): the same type, or an object or
 * interface type that is a member or an implementation of an abstract
 * condition. False when either type is unknown to `schema`.
 */
export function matchesCondition(schema: GraphQLSchema, condition: string, typeName: string): boolean {
  if (condition === typeName) return true;
  const conditionType = schema.getType(condition);
  const type = schema.getType(typeName);
  if (!conditionType || !type || !isAbstractType(conditionType)) return false;
  return (isObjectType(type) || isInterfaceType(type)) && schema.isSubType(conditionType, type);
}
