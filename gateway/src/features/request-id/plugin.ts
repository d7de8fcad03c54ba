import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../../context';
import { REQUEST_ID_HEADER } from '../../principal';

/** Echoes the request id sent to subgraphs in the `x-request-id` response header. */
export function createRequestIdPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ response }) {
          response.http.headers.set(REQUEST_ID_HEADER, contextValue.principal.requestId);
        },
      };
    },
  };
}
