import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { Logger } from '@commerce/common';
import type { GatewayContext } from '../../context';
import { isKnownCode } from '../../format-error';

/** Options of {@link createErrorLoggingPlugin}. */
export interface ErrorLoggingPluginOptions {
  logger: Logger;
}

/**
 * Logs the unexpected errors (codes outside the registry) of an operation with their request id and full
 * detail, since formatError hides that detail from clients in production.
 */
export function createErrorLoggingPlugin({ logger }: ErrorLoggingPluginOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            // A plan's fetch can fail with a plain Error (a malformed subgraph answer): no extensions then.
            if (isKnownCode((error.extensions as GraphQLError['extensions'] | undefined)?.code)) continue;
            logger.error(
              { requestId: contextValue.principal.requestId, operationName, err: error.originalError ?? error },
              'operation failed',
            );
          }
        },
      };
    },
  };
}
