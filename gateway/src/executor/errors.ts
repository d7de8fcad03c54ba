import { ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { ResponsePath } from '@apollo/query-planner';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/**
 * A subgraph's GraphQL error as the client sees it, as @apollo/gateway
 * builds it: the subgraph's message and extensions plus `serviceName`, a
 * path in the client's response, and the federation code when the subgraph
 * gave none (DOWNSTREAM_SERVICE_ERROR).
 */
export function downstreamServiceError(
  error: GraphQLFormattedError,
  serviceName: string,
  path: ResponsePath | undefined,
): GraphQLError {
  const message = error.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = {
    originalError: error as unknown as Error,
    path,
    extensions: { ...error.extensions, serviceName },
  };
  const definition = errorCodeDef(error);
  if (!definition && error.extensions?.code) return new GraphQLError(message, options);
  return (definition ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/**
 * Where a subgraph error belongs in the client's response. An entity fetch's
 * error at `_entities.<i>` is moved to the i-th entity's place (the paths of
 * the non-null values at the fetch's path, computed once per fetch through
 * `cache`); any other error path is appended to the fetch's path.
 */
export function hydratedErrorPath(
  errorPath: readonly (string | number)[] | undefined,
  entityFetch: boolean,
  fetchPath: ResponsePath,
  result: unknown,
  cache: () => ResponsePath[],
): ResponsePath | undefined {
  if (entityFetch && typeof errorPath?.[1] === 'number') {
    const paths = cache();
    if (paths.length === 0) collectPaths([], fetchPath, 0, result, paths);
    return [...(paths[errorPath[1]] ?? []), ...errorPath.slice(2)];
  }
  return errorPath ? [...fetchPath, ...errorPath] : undefined;
}

/** Every concrete path (list indexes filled in) under `path` whose value is not null. */
function collectPaths(
  parent: (string | number)[],
  path: ResponsePath,
  index: number,
  data: unknown,
  out: ResponsePath[],
): void {
  if (data === null || data === undefined) return;
  if (index === path.length) {
    out.push(parent.slice());
    return;
  }
  const head = path[index];
  if (head === '@') {
    if (!Array.isArray(data)) throw new Error('expected array when encountering `@`');
    data.forEach((value, i) => {
      parent.push(i);
      collectPaths(parent, path, index + 1, value, out);
      parent.pop();
    });
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      data.forEach((value, i) => {
        parent.push(i);
        collectPaths(parent, path, index, value, out);
        parent.pop();
      });
    } else if (Object.hasOwn(data as object, head)) {
      parent.push(head);
      collectPaths(parent, path, index + 1, (data as Record<string, unknown>)[head], out);
      parent.pop();
    }
  } else {
    throw new Error(`unknown path part "${String(head)}"`);
  }
}
