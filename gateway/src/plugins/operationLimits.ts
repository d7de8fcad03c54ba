import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { CommerceError, type ErrorCode } from '@commerce/common';
import type { GatewayContext } from '../context';
import type { OperationLimits } from '../limits/config';
import { countTokens, measureOperation } from '../limits/operationShape';

/** Options of {@link createOperationLimitsPlugin}. */
export interface OperationLimitsPluginOptions {
  /** The limits (`loadOperationLimits`); 0 turns one off. */
  limits: OperationLimits;
}

/** Why an operation is refused; a fresh error is made from it for every request. */
interface Verdict {
  code: ErrorCode;
  message: string;
  extensions: Record<string, number>;
}

function exceeded(code: ErrorCode, what: string, found: number, limit: number, variable: string): Verdict {
  return { code, message: `The operation has ${found} ${what}, over the limit of ${limit} (${variable})`, extensions: { limit, found } };
}

function check(limits: OperationLimits, source: string, document: DocumentNode, operation: OperationDefinitionNode): Verdict | undefined {
  if (limits.maxTokens > 0 && countTokens(source, limits.maxTokens) > limits.maxTokens) {
    return { code: 'MAX_TOKENS_EXCEEDED', message: `The document has more than ${limits.maxTokens} tokens (MAX_TOKENS)`, extensions: { limit: limits.maxTokens } };
  }
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const shape = measureOperation(operation, fragments);
  if (limits.maxDepth > 0 && shape.depth > limits.maxDepth) return exceeded('MAX_DEPTH_EXCEEDED', 'levels of fields', shape.depth, limits.maxDepth, 'MAX_QUERY_DEPTH');
  if (limits.maxAliases > 0 && shape.aliases > limits.maxAliases) return exceeded('MAX_ALIASES_EXCEEDED', 'aliases', shape.aliases, limits.maxAliases, 'MAX_ALIASES');
  if (limits.maxRootFields > 0 && shape.rootFields > limits.maxRootFields) return exceeded('MAX_ROOT_FIELDS_EXCEEDED', 'root fields', shape.rootFields, limits.maxRootFields, 'MAX_ROOT_FIELDS');
  if (limits.maxDirectives > 0 && shape.directives > limits.maxDirectives) return exceeded('MAX_DIRECTIVES_EXCEEDED', 'directives', shape.directives, limits.maxDirectives, 'MAX_DIRECTIVES');
  return undefined;
}

/**
 * Refuses operations whose shape is over the limits (depth, aliases, root
 * fields, directives, tokens) with MAX_*_EXCEEDED (HTTP 400), after
 * validation and before planning, so no subgraph is called. Verdicts are
 * kept per parsed document, which Apollo Server reuses for repeated queries.
 */
export function createOperationLimitsPlugin({ limits }: OperationLimitsPluginOptions): ApolloServerPlugin<GatewayContext> {
  const verdicts = new WeakMap<DocumentNode, Map<OperationDefinitionNode, Verdict | null>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ source, document, operation }) {
          if (!operation) return;
          let byOperation = verdicts.get(document);
          if (!byOperation) verdicts.set(document, (byOperation = new Map()));
          let verdict = byOperation.get(operation);
          if (verdict === undefined) byOperation.set(operation, (verdict = check(limits, source, document, operation) ?? null));
          if (verdict) throw new CommerceError(verdict.code, verdict.message, { extensions: verdict.extensions });
        },
      };
    },
  };
}
