import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Counter } from 'prom-client';

/** Options of {@link createOperationMetricsPlugin}. */
export interface OperationMetricsPluginOptions {
  /** `gateway_operations_total`. */
  operations: Counter<'type' | 'result'>;
}

/**
 * Counts every GraphQL operation Apollo Server answers by type (`query`,
 * `mutation`, `subscription`, or `unknown` when it never parsed or resolved)
 * and result (`error` if the response carries any error, else `ok`).
 */
export function createOperationMetricsPlugin({
  operations,
}: OperationMetricsPluginOptions): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, response, errors }) {
          const body = response.body;
          const failed =
            (errors?.length ?? 0) > 0 || (body.kind === 'single' && (body.singleResult.errors?.length ?? 0) > 0);
          operations.inc({ type: operation?.operation ?? 'unknown', result: failed ? 'error' : 'ok' });
        },
      };
    },
  };
}
