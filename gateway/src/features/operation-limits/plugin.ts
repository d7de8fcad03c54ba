import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { CommerceError, type ErrorCode } from '@commerce/common';
import type { GatewayContext } from '../../context';
import type { OperationLimits } from '../../limits/config';
import { MAX_NESTING, NestingTooDeep, measureOperations, type OperationShape } from '../../limits/operation-shape';

/** Options of {@link createOperationLimitsPlugin}. */
export interface OperationLimitsPluginOptions {
  /** The limits (`loadOperationLimits`); 0 turns one off. `maxTokens` is enforced by the parser (`parseOptions`), not here. */
  limits: OperationLimits;
}

/** Why a document is refused; a fresh error is made from it for every request. */
interface Verdict {
  code: ErrorCode;
  message: string;
  extensions: Record<string, number>;
}

function exceeded(code: ErrorCode, what: string, found: number, limit: number, variable: string): Verdict {
  return {
    code,
    message: `The operation has ${found} ${what}, over the limit of ${limit} (${variable})`,
    extensions: { limit, found },
  };
}

function checkShape(limits: OperationLimits, shape: OperationShape): Verdict | undefined {
  if (limits.maxDepth > 0 && shape.depth > limits.maxDepth)
    return exceeded('MAX_DEPTH_EXCEEDED', 'levels of fields', shape.depth, limits.maxDepth, 'MAX_QUERY_DEPTH');
  if (limits.maxAliases > 0 && shape.aliases > limits.maxAliases)
    return exceeded('MAX_ALIASES_EXCEEDED', 'aliases', shape.aliases, limits.maxAliases, 'MAX_ALIASES');
  if (limits.maxRootFields > 0 && shape.rootFields > limits.maxRootFields)
    return exceeded(
      'MAX_ROOT_FIELDS_EXCEEDED',
      'root fields',
      shape.rootFields,
      limits.maxRootFields,
      'MAX_ROOT_FIELDS',
    );
  if (limits.maxDirectives > 0 && shape.directives > limits.maxDirectives)
    return exceeded('MAX_DIRECTIVES_EXCEEDED', 'directives', shape.directives, limits.maxDirectives, 'MAX_DIRECTIVES');
  if (limits.maxSelections > 0 && shape.selections > limits.maxSelections)
    return exceeded(
      'MAX_SELECTIONS_EXCEEDED',
      'field selections (fragments expanded)',
      shape.selections,
      limits.maxSelections,
      'MAX_SELECTIONS',
    );
  return undefined;
}

/** The first operation of `document` over a limit, if any. */
function check(limits: OperationLimits, document: DocumentNode): Verdict | undefined {
  let shapes;
  try {
    shapes = measureOperations(document);
  } catch (error) {
    if (!(error instanceof NestingTooDeep)) throw error;
    return {
      code: 'MAX_DEPTH_EXCEEDED',
      message: `The document nests selections and fragment spreads deeper than ${MAX_NESTING} levels`,
      extensions: { limit: MAX_NESTING },
    };
  }
  for (const shape of shapes.values()) {
    const verdict = checkShape(limits, shape);
    if (verdict) return verdict;
  }
  return undefined;
}

/** Why no operation of `document` can run as asked (graphql-js would only find out while executing). */
function unresolvable(document: DocumentNode, operationName: string | undefined): CommerceError {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length === 0) return new CommerceError('BAD_REQUEST', 'The document contains no operation');
  if (operationName)
    return new CommerceError('BAD_REQUEST', `The document has no operation named "${operationName}"`, {
      extensions: { operationName },
    });
  return new CommerceError(
    'BAD_REQUEST',
    `The document has ${operations.length} operations; choose one with operationName`,
  );
}

/** Operations over HTTP are queries and mutations; there is no subscription transport. */
function unsupported(operation: OperationDefinitionNode): CommerceError | undefined {
  if (operation.operation !== 'subscription') return undefined;
  return new CommerceError(
    'OPERATION_NOT_SUPPORTED',
    'Subscriptions are not supported: the gateway serves queries and mutations over HTTP',
  );
}

/**
 * The first walk of every parsed document, and the gate before planning.
 *
 * When validation starts (before graphql-js validation, the field rate
 * limits, the cost analysis and planning) it measures every operation of the
 * document in one pass linear in its size (each fragment measured once) and
 * refuses a document with an operation over a shape limit (depth, aliases,
 * root fields, directives) with MAX_*_EXCEEDED, HTTP 400. Apollo Server
 * offers no way to answer from that hook (a throw there is a 500), so a
 * refused document is swapped for a one-field placeholder that validation
 * passes at once and that Apollo Server caches in its stead; the refusal is
 * thrown, as every refusal here, when the operation is resolved.
 *
 * When the operation is resolved it also refuses a document whose operation
 * cannot be chosen (several operations without `operationName`, an unknown
 * name) with BAD_REQUEST, and a subscription with OPERATION_NOT_SUPPORTED
 * (both HTTP 400), before any subgraph is called.
 */
export function createOperationLimitsPlugin({
  limits,
}: OperationLimitsPluginOptions): ApolloServerPlugin<GatewayContext> {
  /** Placeholders of refused documents, with the refusal. */
  const refused = new WeakMap<DocumentNode, Verdict>();
  return {
    async requestDidStart() {
      return {
        async validationDidStart(requestContext) {
          const verdict = check(limits, requestContext.document);
          if (!verdict) return;
          const placeholder = parse('{ __typename }');
          refused.set(placeholder, verdict);
          (requestContext as { document: DocumentNode }).document = placeholder;
        },
        async didResolveOperation({ document, operation, request }) {
          const verdict = refused.get(document);
          if (verdict) throw new CommerceError(verdict.code, verdict.message, { extensions: verdict.extensions });
          if (!operation) throw unresolvable(document, request.operationName);
          const notSupported = unsupported(operation);
          if (notSupported) throw notSupported;
        },
      };
    },
  };
}
