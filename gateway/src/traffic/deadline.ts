import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

/** Options of {@link createRequestDeadlinePlugin}. */
export interface RequestDeadlineOptions {
  /** The deadline of one client request, from its start (`GATEWAY_REQUEST_TIMEOUT_MS`). */
  timeoutMs: number;
}

// Keyed by the context object Apollo Server hands both to plugins and (as the incoming request's context) to data sources.
const deadlines = new WeakMap<object, number>();

/** Starts each client request's deadline clock when Apollo Server receives it. */
export function createRequestDeadlinePlugin({ timeoutMs }: RequestDeadlineOptions): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart({ contextValue }) {
      deadlines.set(contextValue, Date.now() + timeoutMs);
    },
  };
}

/** The epoch-ms deadline of the request whose context this is (started now if the plugin did not see it). */
export function requestDeadline(context: object, timeoutMs: number): number {
  let deadline = deadlines.get(context);
  if (deadline === undefined) {
    deadline = Date.now() + timeoutMs;
    deadlines.set(context, deadline);
  }
  return deadline;
}
