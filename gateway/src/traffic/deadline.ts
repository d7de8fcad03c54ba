import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

/** Options of {@link createRequestDeadlinePlugin}. */
export interface RequestDeadlineOptions {
  /** The deadline of one client request, from its start (`GATEWAY_REQUEST_TIMEOUT_MS`). */
  timeoutMs: number;
}

// Keyed by the context object Apollo Server hands both to plugins and (as the incoming request's context) to data sources.
const deadlines = new WeakMap<object, number>();

/**
 * How the data source tells the fetcher a call's deadline (epoch ms): Apollo
 * hands the fetcher only URL, method, headers and body. The fetcher removes
 * it before sending. (An AsyncLocalStorage would do too, but on Node 20 it
 * slows every promise of the process down.)
 */
export const DEADLINE_HEADER = 'x-commerce-deadline';

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

/** Takes the deadline the data source attached to a fetch out of its headers (plain object, as Apollo builds it). */
export function takeDeadline(headers: Record<string, string> | undefined): number | undefined {
  const raw = headers?.[DEADLINE_HEADER];
  if (raw === undefined) return undefined;
  delete headers![DEADLINE_HEADER];
  return Number(raw);
}
